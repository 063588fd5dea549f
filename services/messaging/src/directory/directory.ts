import { Injectable } from '@nestjs/common';
import type { AppStanding, MemberStanding } from '@qiwei/auth';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Messaging's projection of identity's members (from `qiwei.identity.member.v1`): who exists,
 * who is active, and since when their tokens are valid.
 */
@Injectable()
export class Directory {
  constructor(private readonly dataSource: DataSource) {}

  /** Of these userids, the ones that are active members of the corp. */
  async active(em: EntityManager, corpId: string, userids: string[]): Promise<Set<string>> {
    if (!userids.length) return new Set();
    const rows = await em.query<{ userid: string }[]>(
      `SELECT userid FROM directory_members
        WHERE corp_id = $1 AND userid = ANY($2::text[]) AND status = 'active'`,
      [corpId, userids],
    );
    return new Set(rows.map((r) => r.userid));
  }

  /** The active member's name, for a contact card (名片); null when not an active member. */
  async nameOf(em: EntityManager, corpId: string, userid: string): Promise<string | null> {
    const [row] = await em.query<{ name: string }[]>(
      `SELECT name FROM directory_members WHERE corp_id = $1 AND userid = $2 AND status = 'active'`,
      [corpId, userid],
    );
    return row?.name ?? null;
  }

  async standing(corpId: string, userid: string): Promise<MemberStanding | null> {
    const [row] = await this.dataSource.query<
      { status: string; tokens_valid_after: Date | null }[]
    >(
      'SELECT status, tokens_valid_after FROM directory_members WHERE corp_id = $1 AND userid = $2',
      [corpId, userid],
    );
    return row ? { status: row.status, tokensValidAfter: row.tokens_valid_after } : null;
  }

  async appStanding(corpId: string, agentId: number): Promise<AppStanding | null> {
    const [row] = await this.dataSource.query<
      { deleted: boolean; tokens_valid_after: Date | null }[]
    >(
      'SELECT deleted, tokens_valid_after FROM directory_apps WHERE corp_id = $1 AND agentid = $2',
      [corpId, agentId],
    );
    return row ? { deleted: row.deleted, tokensValidAfter: row.tokens_valid_after } : null;
  }
}
