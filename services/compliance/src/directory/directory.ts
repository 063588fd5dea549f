import { Injectable } from '@nestjs/common';
import type { MemberStanding } from '@qiwei/auth';
import type { CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Compliance's projection of identity's members (from `qiwei.identity.member.v1`): who exists,
 * their roles, and since when their tokens are valid.
 */
@Injectable()
export class Directory {
  constructor(private readonly dataSource: DataSource) {}

  async standing(corpId: string, userid: string): Promise<MemberStanding | null> {
    const [row] = await this.dataSource.query<
      { status: string; tokens_valid_after: Date | null }[]
    >(
      'SELECT status, tokens_valid_after FROM directory_members WHERE corp_id = $1 AND userid = $2',
      [corpId, userid],
    );
    return row ? { status: row.status, tokensValidAfter: row.tokens_valid_after } : null;
  }

  /** Whether the member is active and holds the compliance officer role. */
  async isActiveOfficer(em: EntityManager, corpId: CorpId, userid: string): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `SELECT 1 FROM directory_members
        WHERE corp_id = $1 AND userid = $2 AND status = 'active' AND 'compliance_officer' = ANY(roles)`,
      [corpId, userid],
    );
    return rows.length > 0;
  }
}
