import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { decodeCursor, encodeCursor } from '@qiwei/platform';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import type { RecordConsent } from '../archive/archive-record';

export const CONSENT_STATUSES = ['agree', 'disagree', 'default_agree'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];
/** A contact's state for one message: one of the above, or `none` when nothing was recorded. */
export type EffectiveConsent = ConsentStatus | 'none';

export interface ConsentState {
  externalUserid: string;
  /** The member the consent is towards; null: towards every member of the corp. */
  userid: string | null;
  status: ConsentStatus;
  source: 'api' | 'event';
  changedBy: string;
  changedAt: Date;
}

export interface ConsentDecision {
  consent: RecordConsent;
  /** Each external participant's effective state, by external userid. */
  states: Record<string, EffectiveConsent>;
}

interface ConsentRow {
  external_userid: string;
  userid: string;
  status: ConsentStatus;
  source: 'api' | 'event';
  changed_by: string;
  changed_at: Date;
}

const stateOf = (r: ConsentRow): ConsentState => ({
  externalUserid: r.external_userid,
  userid: r.userid || null,
  status: r.status,
  source: r.source,
  changedBy: r.changed_by,
  changedAt: r.changed_at,
});

type Cursor = { e: string; u: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).e === 'string' &&
  typeof (v as Cursor).u === 'string';

export const consents = (status: EffectiveConsent): boolean =>
  status === 'agree' || status === 'default_agree';

/**
 * External contacts' archiving consent (in the spirit of WeCom's `check_single_agree`), and the
 * policy that applies it to a message:
 *
 * - A contact's state is `agree`, `disagree` or `default_agree`, towards one member (a pair) or
 *   towards every member of the corp. Nothing recorded is `none`.
 * - For a message, each external participant's effective state is the pair's — when the
 *   conversation has exactly one member, the contact's one-to-one chat with that member — and
 *   otherwise (or when no pair state is recorded) the contact's state towards every member.
 * - `agree` and `default_agree` consent; `disagree` and `none` do not. When every external
 *   participant consents the message is archived in full (`consent: agreed`); when any does not,
 *   it is archived only as the fact that it existed (`consent: withheld`: who, where, when,
 *   type, seq, participants; no text, mentions, quote or media, and no media copy).
 * - The state at the moment the message is archived decides, for good: consent given later does
 *   not bring back content never stored; consent withdrawn later does not erase what was stored
 *   (retention and legal hold govern that).
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly accessLog: AccessLog,
  ) {}

  async decide(
    em: EntityManager,
    corpId: CorpId,
    members: string[],
    externals: string[],
  ): Promise<ConsentDecision> {
    if (!externals.length) return { consent: 'not_required', states: {} };
    const pairWith = members.length === 1 ? members[0] : null;
    const rows = await em.query<ConsentRow[]>(
      `SELECT * FROM archive_consents
        WHERE corp_id = $1 AND external_userid = ANY($2::text[]) AND userid IN ('', $3)`,
      [corpId, externals, pairWith ?? ''],
    );
    const states: Record<string, EffectiveConsent> = {};
    for (const external of externals) {
      const pair = pairWith
        ? rows.find((r) => r.external_userid === external && r.userid === pairWith)
        : undefined;
      const wide = rows.find((r) => r.external_userid === external && r.userid === '');
      states[external] = (pair ?? wide)?.status ?? 'none';
    }
    const consent = Object.values(states).every(consents) ? 'agreed' : 'withheld';
    return { consent, states };
  }

  /**
   * Sets a contact's state (towards one member, or every member when `userid` is null). From
   * the API (an officer or super admin, recorded in the access log) or, later, from
   * customer-contact's consent events (`source: 'event'`, recorded as by `system`).
   */
  async set(
    actor: Principal | { corpId: CorpId; userId: 'system' },
    change: { externalUserid: string; userid: string | null; status: ConsentStatus },
    source: 'api' | 'event' = 'api',
  ): Promise<{ state: ConsentState; previous: ConsentStatus | null }> {
    return this.tx.run(async (em) => {
      const [before] = await em.query<ConsentRow[]>(
        `SELECT * FROM archive_consents WHERE corp_id = $1 AND external_userid = $2 AND userid = $3
           FOR UPDATE`,
        [actor.corpId, change.externalUserid, change.userid ?? ''],
      );
      const [row] = await em.query<ConsentRow[]>(
        `INSERT INTO archive_consents (corp_id, external_userid, userid, status, source, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (corp_id, external_userid, userid) DO UPDATE
           SET status = $4, source = $5, changed_by = $6, changed_at = now()
         RETURNING *`,
        [
          actor.corpId,
          change.externalUserid,
          change.userid ?? '',
          change.status,
          source,
          actor.userId,
        ],
      );
      await this.accessLog.append(em, {
        corpId: actor.corpId,
        actor: actor.userId,
        action: 'consent.changed',
        query: {
          externalUserid: change.externalUserid,
          userid: change.userid,
          status: change.status,
          previous: before?.status ?? null,
          source,
        },
        resultCount: 1,
      });
      return { state: stateOf(row), previous: before?.status ?? null };
    });
  }

  async list(
    corpId: CorpId,
    filter: { externalUserid?: string; userid?: string; limit: number; cursor?: string },
  ): Promise<{ items: ConsentState[]; nextCursor: string | null }> {
    const cursor = decodeCursor(filter.cursor, isCursor);
    const rows = await this.dataSource.query<ConsentRow[]>(
      `SELECT * FROM archive_consents
        WHERE corp_id = $1 AND ($2::text IS NULL OR external_userid = $2)
          AND ($3::text IS NULL OR userid = $3)
          AND ($4::text IS NULL OR (external_userid, userid) > ($4, $5))
        ORDER BY external_userid, userid LIMIT $6`,
      [
        corpId,
        filter.externalUserid ?? null,
        filter.userid ?? null,
        cursor?.e ?? null,
        cursor?.u ?? '',
        filter.limit + 1,
      ],
    );
    const items = rows.slice(0, filter.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(stateOf),
      nextCursor:
        rows.length > filter.limit
          ? encodeCursor({ e: last.external_userid, u: last.userid })
          : null,
    };
  }
}
