import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { DomainException, NotFoundException, decodeCursor, encodeCursor } from '@qiwei/platform';
import { TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource } from 'typeorm';
import { AccessLog } from '../access-log/access-log';
import {
  heldBy,
  matterSearchFilters,
  type ArchiveSearchFilter,
  type MatterScope,
} from './matter-filter';

export interface Matter extends MatterScope {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'released';
  createdBy: string;
  createdAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
  releaseNote: string | null;
}

interface MatterRow {
  id: string;
  name: string;
  description: string;
  custodians: string[];
  conversation_ids: string[];
  held_from: Date | null;
  held_to: Date | null;
  status: 'active' | 'released';
  created_by: string;
  created_at: Date;
  released_by: string | null;
  released_at: Date | null;
  release_note: string | null;
}

const matterOf = (r: MatterRow): Matter => ({
  id: r.id,
  name: r.name,
  description: r.description,
  custodians: r.custodians,
  conversationIds: r.conversation_ids,
  from: r.held_from,
  to: r.held_to,
  status: r.status,
  createdBy: r.created_by,
  createdAt: r.created_at,
  releasedBy: r.released_by,
  releasedAt: r.released_at,
  releaseNote: r.release_note,
});

export class MatterNotFoundException extends NotFoundException {
  constructor(id: string) {
    super('MATTER_NOT_FOUND', `There is no legal matter ${id}.`);
  }
}

export class MatterScopeEmptyException extends DomainException {
  constructor() {
    super(
      'MATTER_SCOPE_EMPTY',
      422,
      'A matter must name custodians, conversations or a time range: it would hold everything.',
    );
  }
}

export class MatterTimeRangeInvalidException extends DomainException {
  constructor() {
    super('TIME_RANGE_INVALID', 422, '`from` must be before `to`.');
  }
}

export class MatterAlreadyReleasedException extends DomainException {
  constructor(id: string) {
    super('MATTER_ALREADY_RELEASED', 409, `Matter ${id} is already released.`);
  }
}

type Cursor = { t: string; i: string };
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Cursor).t === 'string' &&
  !Number.isNaN(new Date((v as Cursor).t).getTime()) &&
  typeof (v as Cursor).i === 'string' &&
  /^[0-9a-f-]{36}$/.test((v as Cursor).i);

/**
 * Legal holds (matters): a matter names custodians, conversations and/or a time range; while it
 * is active, the records it holds survive retention. Creating and releasing a matter are
 * appended to the access log (a hash chain) in the same transaction.
 */
@Injectable()
export class MattersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly accessLog: AccessLog,
  ) {}

  async create(
    caller: Principal,
    input: { name: string; description: string } & MatterScope,
  ): Promise<Matter> {
    if (!input.custodians.length && !input.conversationIds.length && !input.from && !input.to)
      throw new MatterScopeEmptyException();
    if (input.from && input.to && input.from >= input.to)
      throw new MatterTimeRangeInvalidException();
    return this.tx.run(async (em) => {
      const [row] = await em.query<MatterRow[]>(
        `INSERT INTO legal_matters (corp_id, id, name, description, custodians, conversation_ids,
           held_from, held_to, status, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5::text[], $6::uuid[], $7, $8, 'active', $9, now())
         RETURNING *`,
        [
          caller.corpId,
          randomUUID(),
          input.name,
          input.description,
          input.custodians,
          input.conversationIds,
          input.from,
          input.to,
          caller.userId,
        ],
      );
      const matter = matterOf(row);
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'matter.created',
        query: {
          matterId: matter.id,
          name: matter.name,
          custodians: matter.custodians,
          conversationIds: matter.conversationIds,
          from: matter.from?.toISOString() ?? null,
          to: matter.to?.toISOString() ?? null,
        },
        resultCount: 1,
      });
      return matter;
    });
  }

  async get(corpId: CorpId, id: string): Promise<Matter & { heldRecords: number }> {
    const [row] = await this.dataSource.query<MatterRow[]>(
      'SELECT * FROM legal_matters WHERE corp_id = $1 AND id = $2',
      [corpId, id],
    );
    if (!row) throw new MatterNotFoundException(id);
    const [held] = await this.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM archive_records r
        WHERE r.corp_id = $1 AND r.kind <> 'tombstone' AND ${heldBy('r', '$2')}`,
      [corpId, id],
    );
    return { ...matterOf(row), heldRecords: Number(held.n) };
  }

  async list(
    corpId: CorpId,
    filter: { status?: 'active' | 'released'; limit: number; cursor?: string },
  ): Promise<{ items: Matter[]; nextCursor: string | null }> {
    const cursor = decodeCursor(filter.cursor, isCursor);
    const rows = await this.dataSource.query<MatterRow[]>(
      `SELECT * FROM legal_matters
        WHERE corp_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [corpId, filter.status ?? null, cursor?.t ?? null, cursor?.i ?? null, filter.limit + 1],
    );
    const items = rows.slice(0, filter.limit).map(matterOf);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > filter.limit
          ? encodeCursor({ t: last.createdAt.toISOString(), i: last.id })
          : null,
    };
  }

  async release(caller: Principal, id: string, note: string): Promise<Matter> {
    return this.tx.run(async (em) => {
      const [row] = await em.query<MatterRow[]>(
        'SELECT * FROM legal_matters WHERE corp_id = $1 AND id = $2 FOR UPDATE',
        [caller.corpId, id],
      );
      if (!row) throw new MatterNotFoundException(id);
      if (row.status === 'released') throw new MatterAlreadyReleasedException(id);
      const [released] = await em.query<MatterRow[]>(
        `WITH u AS (UPDATE legal_matters SET status = 'released', released_by = $3,
                      released_at = now(), release_note = $4
                     WHERE corp_id = $1 AND id = $2 RETURNING *) SELECT * FROM u`,
        [caller.corpId, id, caller.userId, note],
      );
      await this.accessLog.append(em, {
        corpId: caller.corpId,
        actor: caller.userId,
        action: 'matter.released',
        query: { matterId: id, name: row.name, note },
        resultCount: 1,
      });
      return matterOf(released);
    });
  }

  /** The archive search filters for a matter of the corp (export of a matter builds on them). */
  async searchFilters(corpId: CorpId, id: string): Promise<ArchiveSearchFilter[]> {
    const [row] = await this.dataSource.query<MatterRow[]>(
      'SELECT * FROM legal_matters WHERE corp_id = $1 AND id = $2',
      [corpId, id],
    );
    if (!row) throw new MatterNotFoundException(id);
    return matterSearchFilters(matterOf(row));
  }
}
