import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import { In, type EntityManager } from 'typeorm';
import { Department } from '../departments/department.entity';
import { Member } from '../members/member.entity';

export interface DepartmentRow {
  id: number;
  parentId: number | null;
  name: string;
  path: string;
}

/** A member's profile as an import writes it (the columns of the member sheet). */
export interface MemberProfileRow {
  userid: string;
  name: string;
  mobile: string | null;
  email: string | null;
  position: string;
  mainDepartmentId: number;
}

export interface MembershipRow {
  userid: string;
  departmentId: number;
  isMain: boolean;
}

/**
 * Set-based reads and writes for imports: one statement per kind of change for a whole chunk
 * of rows, instead of one use-case call per member. Every method is scoped to one corp.
 */
@Injectable()
export class BulkMembersRepository {
  async tree(em: EntityManager, corpId: CorpId): Promise<DepartmentRow[]> {
    return em.query(
      `SELECT id, parent_id AS "parentId", name, path FROM departments WHERE corp_id = $1`,
      [corpId],
    );
  }

  members(em: EntityManager, corpId: CorpId, userids: string[]): Promise<Member[]> {
    return userids.length
      ? em.getRepository(Member).findBy({ corpId, userid: In(userids) })
      : Promise.resolve([]);
  }

  departments(em: EntityManager, corpId: CorpId, ids: number[]): Promise<Department[]> {
    return em
      .getRepository(Department)
      .find({ where: { corpId, id: In(ids) }, order: { id: 'ASC' } });
  }

  /** Who holds each of these mobiles now. */
  async mobileHolders(
    em: EntityManager,
    corpId: CorpId,
    mobiles: string[],
  ): Promise<Map<string, string>> {
    const rows = mobiles.length
      ? await em.query<{ mobile: string; userid: string }[]>(
          'SELECT mobile, userid FROM members WHERE corp_id = $1 AND mobile = ANY($2::text[])',
          [corpId, mobiles],
        )
      : [];
    return new Map(rows.map((r) => [r.mobile, r.userid]));
  }

  async insertDepartments(
    em: EntityManager,
    corpId: CorpId,
    departments: { id: number; parentId: number; name: string; path: string; depth: number }[],
  ): Promise<void> {
    if (departments.length === 0) return;
    await em.query(
      `INSERT INTO departments (corp_id, id, parent_id, name, "order", path, depth)
       SELECT $1, d.id, d.parent_id, d.name, 0, d.path, d.depth
         FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::int[])
              AS d(id, parent_id, name, path, depth)`,
      [
        corpId,
        departments.map((d) => d.id),
        departments.map((d) => d.parentId),
        departments.map((d) => d.name),
        departments.map((d) => d.path),
        departments.map((d) => d.depth),
      ],
    );
  }

  /** New members, active, with the member API's defaults for what the sheet does not hold. */
  async insertMembers(em: EntityManager, corpId: CorpId, rows: MemberProfileRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO members (corp_id, userid, name, mobile, email, position, status, roles, main_department_id)
       SELECT $1, m.userid, m.name, m.mobile, m.email, m.position, 'active', '{member}', m.main
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
              AS m(userid, name, mobile, email, position, main)`,
      this.profileColumns(corpId, rows),
    );
  }

  async updateMembers(em: EntityManager, corpId: CorpId, rows: MemberProfileRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `UPDATE members t
          SET name = m.name, mobile = m.mobile, email = m.email, position = m.position,
              main_department_id = m.main, updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
              AS m(userid, name, mobile, email, position, main)
        WHERE t.corp_id = $1 AND t.userid = m.userid`,
      this.profileColumns(corpId, rows),
    );
  }

  /**
   * Adds memberships. `existingMembers`: some may be there already, and only get their main
   * flag set (their order and leader flag stay); new members' are plainly inserted.
   */
  async addMemberships(
    em: EntityManager,
    corpId: CorpId,
    rows: MembershipRow[],
    { existingMembers }: { existingMembers: boolean },
  ): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO member_departments (corp_id, userid, department_id, is_main)
       SELECT $1, r.userid, r.department_id, r.is_main
         FROM unnest($2::text[], $3::int[], $4::boolean[]) AS r(userid, department_id, is_main)
       ${existingMembers ? 'ON CONFLICT (corp_id, userid, department_id) DO UPDATE SET is_main = EXCLUDED.is_main' : ''}`,
      [
        corpId,
        rows.map((r) => r.userid),
        rows.map((r) => r.departmentId),
        rows.map((r) => r.isMain),
      ],
    );
  }

  async deleteMemberships(
    em: EntityManager,
    corpId: CorpId,
    rows: { userid: string; departmentId: number }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `DELETE FROM member_departments md
        USING unnest($2::text[], $3::int[]) AS r(userid, department_id)
        WHERE md.corp_id = $1 AND md.userid = r.userid AND md.department_id = r.department_id`,
      [corpId, rows.map((r) => r.userid), rows.map((r) => r.departmentId)],
    );
  }

  /** Fresh planner statistics for the tables an import grows. */
  async refreshStatistics(em: EntityManager): Promise<void> {
    await em.query('ANALYZE members, member_departments, departments');
  }

  private profileColumns(corpId: CorpId, rows: MemberProfileRow[]): unknown[] {
    return [
      corpId,
      rows.map((r) => r.userid),
      rows.map((r) => r.name),
      rows.map((r) => r.mobile),
      rows.map((r) => r.email),
      rows.map((r) => r.position),
      rows.map((r) => r.mainDepartmentId),
    ];
  }
}
