import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { currentRequestContext, type RequestContext } from './request-context';

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string | number;
  before?: unknown;
  after?: unknown;
  /** Overrides the request's actor (e.g. the member signing in). */
  actorId?: string;
  /** With `actorId`: what kind of actor it names (a member unless said). */
  actorType?: 'member' | 'app';
}

// Never written to the log, whatever a use case passes.
const SECRET_KEYS = new Set([
  'password',
  'passwordHash',
  'password_hash',
  'accessToken',
  'refreshToken',
  'secret',
]);

/** JSON text for a jsonb column, secrets left out (null for nothing). */
function scrub(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  return JSON.stringify(value, (key, v: unknown) => (SECRET_KEYS.has(key) ? undefined : v));
}

/** Appends an audit entry in the caller's transaction: the change and its record commit together. */
export function recordAudit(em: EntityManager, corpId: CorpId, entry: AuditEntry): Promise<void> {
  return recordAudits(em, corpId, [entry]);
}

/**
 * Several entries in one statement (bulk writers such as imports), in order. `context` stands
 * in for the request's when the work runs outside it (a background job acting for its requester).
 */
export async function recordAudits(
  em: EntityManager,
  corpId: CorpId,
  entries: AuditEntry[],
  context: RequestContext = currentRequestContext(),
): Promise<void> {
  if (entries.length === 0) return;
  await em.query(
    // Only for corps that exist: a sign-in attempt naming a made-up corp must not fill the log.
    `INSERT INTO audit_log (corp_id, actor_type, actor_id, action, target_type, target_id, before, after, ip, request_id)
     SELECT $1::varchar, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id,
            e.before::jsonb, e.after::jsonb, $2, $3
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
            WITH ORDINALITY AS e(actor_type, actor_id, action, target_type, target_id, before, after, n)
      WHERE EXISTS (SELECT 1 FROM corps WHERE corp_id = $1::varchar)
      ORDER BY e.n`,
    [
      corpId,
      context.ip,
      context.requestId,
      entries.map((e) => (e.actorId ? (e.actorType ?? 'member') : context.actorType)),
      entries.map((e) => e.actorId ?? context.actorId),
      entries.map((e) => e.action),
      entries.map((e) => e.targetType),
      entries.map((e) => String(e.targetId)),
      entries.map((e) => scrub(e.before)),
      entries.map((e) => scrub(e.after)),
    ],
  );
}
