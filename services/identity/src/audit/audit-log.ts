import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { currentRequestContext } from './request-context';

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

function scrub(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (SECRET_KEYS.has(key) ? undefined : v)),
  ) as unknown;
}

/** Appends an audit entry in the caller's transaction: the change and its record commit together. */
export async function recordAudit(
  em: EntityManager,
  corpId: CorpId,
  entry: AuditEntry,
): Promise<void> {
  const ctx = currentRequestContext();
  await em.query(
    // Only for corps that exist: a sign-in attempt naming a made-up corp must not fill the log.
    `INSERT INTO audit_log (corp_id, actor_type, actor_id, action, target_type, target_id, before, after, ip, request_id)
     SELECT $1::varchar, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10
      WHERE EXISTS (SELECT 1 FROM corps WHERE corp_id = $1::varchar)`,
    [
      corpId,
      entry.actorId ? (entry.actorType ?? 'member') : ctx.actorType,
      entry.actorId ?? ctx.actorId,
      entry.action,
      entry.targetType,
      String(entry.targetId),
      JSON.stringify(scrub(entry.before)),
      JSON.stringify(scrub(entry.after)),
      ctx.ip,
      ctx.requestId,
    ],
  );
}
