import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { Gender, MemberStatus } from '../members/member.entity';

/** A member's profile as a batch job writes it: the columns WeCom's user template holds. */
export interface BatchProfileRow {
  userid: string;
  name: string;
  mobile: string | null;
  email: string | null;
  position: string;
  gender: Gender;
  mainDepartmentId: number;
}

export interface BatchMembershipRow {
  userid: string;
  departmentId: number;
  isMain: boolean;
  order: number;
  isLeader: boolean;
}

/** A member of the corp with the paths of their departments (what range checks need). */
export interface MemberInRange {
  userid: string;
  roles: string[];
  status: MemberStatus;
  paths: string[];
}

/**
 * Set-based writes of the batch jobs: one statement per kind of change for a whole chunk.
 * Every method is scoped to one corp.
 */
@Injectable()
export class BatchMembersRepository {
  /** New members with the default role; disabled ones too (禁用 = 1). */
  async insert(
    em: EntityManager,
    corpId: CorpId,
    rows: (BatchProfileRow & { status: 'active' | 'disabled' })[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO members (corp_id, userid, name, mobile, email, position, gender, status, roles, main_department_id)
       SELECT $1, m.userid, m.name, m.mobile, m.email, m.position, m.gender, m.status, '{member}', m.main
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[])
              AS m(userid, name, mobile, email, position, gender, main, status)`,
      [...this.profileColumns(corpId, rows), rows.map((r) => r.status)],
    );
  }

  /**
   * Mobiles of these members set aside first, so that mobiles moving between members within one
   * chunk never meet the unique index half-way.
   */
  async releaseMobiles(em: EntityManager, corpId: CorpId, userids: string[]): Promise<void> {
    if (userids.length === 0) return;
    await em.query(
      `UPDATE members SET mobile = NULL WHERE corp_id = $1 AND userid = ANY($2::text[]) AND mobile IS NOT NULL`,
      [corpId, userids],
    );
  }

  async updateProfiles(em: EntityManager, corpId: CorpId, rows: BatchProfileRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `UPDATE members t
          SET name = m.name, mobile = m.mobile, email = m.email, position = m.position,
              gender = m.gender, main_department_id = m.main, updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
              AS m(userid, name, mobile, email, position, gender, main)
        WHERE t.corp_id = $1 AND t.userid = m.userid`,
      this.profileColumns(corpId, rows),
    );
  }

  /**
   * Disables or enables members. Disabled members' tokens stop working at once and their
   * sessions end, as the member API does.
   */
  async setStatuses(
    em: EntityManager,
    corpId: CorpId,
    changes: { userid: string; status: 'active' | 'disabled' }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    await em.query(
      `UPDATE members t
          SET status = c.status, updated_at = now(),
              tokens_valid_after = CASE WHEN c.status = 'disabled' THEN now() ELSE t.tokens_valid_after END
         FROM unnest($2::text[], $3::text[]) AS c(userid, status)
        WHERE t.corp_id = $1 AND t.userid = c.userid`,
      [corpId, changes.map((c) => c.userid), changes.map((c) => c.status)],
    );
    const disabled = changes.filter((c) => c.status === 'disabled').map((c) => c.userid);
    if (disabled.length) {
      await em.query(
        `UPDATE refresh_tokens SET revoked_at = now()
          WHERE corp_id = $1 AND userid = ANY($2::text[]) AND revoked_at IS NULL`,
        [corpId, disabled],
      );
    }
  }

  /** Replaces every membership of these members with `rows`. */
  async replaceMemberships(
    em: EntityManager,
    corpId: CorpId,
    userids: string[],
    rows: BatchMembershipRow[],
  ): Promise<void> {
    if (userids.length) {
      await em.query(
        'DELETE FROM member_departments WHERE corp_id = $1 AND userid = ANY($2::text[])',
        [corpId, userids],
      );
    }
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO member_departments (corp_id, userid, department_id, is_main, "order", is_leader)
       SELECT $1, r.userid, r.department_id, r.is_main, r.ord, r.is_leader
         FROM unnest($2::text[], $3::int[], $4::boolean[], $5::int[], $6::boolean[])
              AS r(userid, department_id, is_main, ord, is_leader)`,
      [
        corpId,
        rows.map((r) => r.userid),
        rows.map((r) => r.departmentId),
        rows.map((r) => r.isMain),
        rows.map((r) => r.order),
        rows.map((r) => r.isLeader),
      ],
    );
  }

  /** Every member of the corp with their departments' paths, by userid. */
  membersWithPaths(em: EntityManager, corpId: CorpId): Promise<MemberInRange[]> {
    return em.query(
      `SELECT m.userid, m.roles, m.status,
              coalesce(array_agg(d.path) FILTER (WHERE d.path IS NOT NULL), '{}') AS paths
         FROM members m
         LEFT JOIN member_departments md ON md.corp_id = m.corp_id AND md.userid = m.userid
         LEFT JOIN departments d ON d.corp_id = md.corp_id AND d.id = md.department_id
        WHERE m.corp_id = $1
        GROUP BY m.userid, m.roles, m.status
        ORDER BY m.userid`,
      [corpId],
    );
  }

  /** Deletes members (memberships, tags, sessions go with them). */
  async delete(em: EntityManager, corpId: CorpId, userids: string[]): Promise<void> {
    if (userids.length === 0) return;
    await em.query('DELETE FROM members WHERE corp_id = $1 AND userid = ANY($2::text[])', [
      corpId,
      userids,
    ]);
  }

  private profileColumns(corpId: CorpId, rows: BatchProfileRow[]): unknown[] {
    return [
      corpId,
      rows.map((r) => r.userid),
      rows.map((r) => r.name),
      rows.map((r) => r.mobile),
      rows.map((r) => r.email),
      rows.map((r) => r.position),
      rows.map((r) => r.gender),
      rows.map((r) => r.mainDepartmentId),
    ];
  }
}
