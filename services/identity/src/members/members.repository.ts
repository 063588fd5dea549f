import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { Member, MemberDepartment, type MemberStatus } from './member.entity';

/** One department subtree of a department admin's scope. */
export interface MemberAdminScope {
  departmentId: number;
  permissions: string[];
}

/** Memberships from which a department listing walks members rather than collecting them. */
const MANY_MEMBERSHIPS = 2_000;

export interface MemberWithDepartments {
  member: Member;
  departments: MemberDepartment[];
  /** Empty unless the member is a department admin. */
  scopes: MemberAdminScope[];
}

/** Queries on members. Every method is scoped to one corp. */
@Injectable()
export class MembersRepository {
  find(em: EntityManager, corpId: CorpId, userid: string): Promise<Member | null> {
    return em.getRepository(Member).findOneBy({ corpId, userid });
  }

  async findWithDepartments(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
  ): Promise<MemberWithDepartments | null> {
    const member = await this.find(em, corpId, userid);
    if (!member) return null;
    return (await this.withDepartments(em, corpId, [member]))[0];
  }

  /** The members with their memberships and admin scopes, in two queries. */
  async withDepartments(
    em: EntityManager,
    corpId: CorpId,
    members: Member[],
  ): Promise<MemberWithDepartments[]> {
    const userids = members.map((m) => m.userid);
    const [memberships, scopes] = await Promise.all([
      this.departmentsOf(em, corpId, userids),
      this.scopesOf(em, corpId, userids),
    ]);
    return members.map((member) => ({
      member,
      departments: memberships.get(member.userid) ?? [],
      scopes: scopes.get(member.userid) ?? [],
    }));
  }

  /** Admin scopes of several members, in one query, ordered by department id. */
  async scopesOf(
    em: EntityManager,
    corpId: CorpId,
    userids: string[],
  ): Promise<Map<string, MemberAdminScope[]>> {
    const rows = userids.length
      ? await em.query<{ userid: string; department_id: number; permissions: string[] }[]>(
          `SELECT userid, department_id, permissions FROM admin_scopes
            WHERE corp_id = $1 AND userid = ANY($2::text[]) ORDER BY department_id`,
          [corpId, userids],
        )
      : [];
    const byMember = new Map<string, MemberAdminScope[]>();
    for (const row of rows) {
      const scope = { departmentId: row.department_id, permissions: row.permissions };
      byMember.set(row.userid, [...(byMember.get(row.userid) ?? []), scope]);
    }
    return byMember;
  }

  /** Replaces a member's admin scopes (none unless they are a department admin). */
  async replaceScopes(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    scopes: MemberAdminScope[],
  ): Promise<void> {
    await em.query('DELETE FROM admin_scopes WHERE corp_id = $1 AND userid = $2', [corpId, userid]);
    if (!scopes.length) return;
    await em.query(
      `INSERT INTO admin_scopes (corp_id, userid, department_id, permissions)
       SELECT $1, $2, s.department_id, ARRAY(SELECT jsonb_array_elements_text(s.permissions))
         FROM jsonb_to_recordset($3::jsonb) AS s(department_id int, permissions jsonb)`,
      [
        corpId,
        userid,
        JSON.stringify(
          scopes.map((s) => ({ department_id: s.departmentId, permissions: s.permissions })),
        ),
      ],
    );
  }

  /** Memberships of several members, in one query, ordered by department id. */
  async departmentsOf(
    em: EntityManager,
    corpId: CorpId,
    userids: string[],
  ): Promise<Map<string, MemberDepartment[]>> {
    const rows = userids.length
      ? await em
          .getRepository(MemberDepartment)
          .createQueryBuilder('md')
          .where('md.corp_id = :corpId AND md.userid IN (:...userids)', { corpId, userids })
          .orderBy('md.department_id', 'ASC')
          .getMany()
      : [];
    const byMember = new Map<string, MemberDepartment[]>();
    for (const row of rows) byMember.set(row.userid, [...(byMember.get(row.userid) ?? []), row]);
    return byMember;
  }

  async existingDepartments(
    em: EntityManager,
    corpId: CorpId,
    ids: number[],
  ): Promise<Set<number>> {
    const rows = await em.query<{ id: number }[]>(
      'SELECT id FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
      [corpId, ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Those of these members the caller can see. */
  visibleAmong(em: EntityManager, access: Access, userids: string[]): Promise<Member[]> {
    const qb = em
      .getRepository(Member)
      .createQueryBuilder('m')
      .where('m.corp_id = :corpId AND m.userid = ANY(:userids::text[])', {
        corpId: access.corpId,
        userids,
      })
      .orderBy('m.userid', 'ASC');
    const visible = access.memberVisibleSql('m');
    if (visible) qb.andWhere(visible.sql, visible.params);
    return qb.getMany();
  }

  async existingUserids(
    em: EntityManager,
    corpId: CorpId,
    userids: string[],
  ): Promise<Set<string>> {
    const rows = await em.query<{ userid: string }[]>(
      'SELECT userid FROM members WHERE corp_id = $1 AND userid = ANY($2::text[])',
      [corpId, userids],
    );
    return new Set(rows.map((r) => r.userid));
  }

  /** Members of any status: what the corp's member limit counts. */
  async count(em: EntityManager, corpId: CorpId): Promise<number> {
    const rows = await em.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM members WHERE corp_id = $1',
      [corpId],
    );
    return rows[0].n;
  }

  async mobileTaken(
    em: EntityManager,
    corpId: CorpId,
    mobile: string,
    exceptUserid?: string,
  ): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      'SELECT 1 FROM members WHERE corp_id = $1 AND mobile = $2 AND userid <> $3 LIMIT 1',
      [corpId, mobile, exceptUserid ?? ''],
    );
    return rows.length > 0;
  }

  /** Active super admins other than `userid`. */
  async otherActiveSuperAdmins(em: EntityManager, corpId: CorpId, userid: string): Promise<number> {
    const rows = await em.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM members
        WHERE corp_id = $1 AND userid <> $2 AND status = 'active' AND 'super_admin' = ANY(roles)`,
      [corpId, userid],
    );
    return Number(rows[0].n);
  }

  async replaceDepartments(
    em: EntityManager,
    corpId: CorpId,
    userid: string,
    mainDepartmentId: number,
    departments: { id: number; order: number; isLeader: boolean }[],
  ): Promise<void> {
    await em.getRepository(MemberDepartment).delete({ corpId, userid });
    await em.getRepository(MemberDepartment).insert(
      departments.map((d) => ({
        corpId,
        userid,
        departmentId: d.id,
        order: d.order,
        isLeader: d.isLeader,
        isMain: d.id === mainDepartmentId,
      })),
    );
  }

  /**
   * Members of a department (or of its whole subtree), by userid, keyset-paginated.
   * `path` is the department's materialised path.
   *
   * Two query shapes, picked per page by how many memberships the departments hold: a few are
   * collected, sorted and cut; many are walked in userid order through the members' primary
   * key, probing each member's memberships, which stops after one page wherever the page is.
   * Left to itself the planner hashes the whole subtree or merges from the corp's first userid
   * on every page, so later pages of a large subtree get slower and slower.
   */
  async inDepartment(
    em: EntityManager,
    access: Access,
    department: { id: number; path: string },
    options: { recursive: boolean; status?: MemberStatus; after?: string; limit: number },
  ): Promise<Member[]> {
    const corpId = access.corpId;
    const ids = options.recursive
      ? (
          await em.query<{ id: number }[]>(
            'SELECT id FROM departments WHERE corp_id = $1 AND path LIKE $2',
            [corpId, `${department.path}%`],
          )
        ).map((r) => r.id)
      : [department.id];
    const [{ n: memberships }] = await em.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM member_departments
          WHERE corp_id = $1 AND department_id = ANY($2::int[]) LIMIT $3) few`,
      [corpId, ids, MANY_MEMBERSHIPS],
    );
    const qb = em
      .getRepository(Member)
      .createQueryBuilder('m')
      .where('m.corp_id = :corpId', { corpId, ids })
      .orderBy('m.userid', 'ASC')
      .limit(options.limit + 1);
    if (memberships < MANY_MEMBERSHIPS) {
      qb.andWhere(
        `m.userid IN (SELECT md.userid FROM member_departments md
                       WHERE md.corp_id = :corpId AND md.department_id = ANY(:ids::int[]))`,
      );
    } else {
      // OFFSET 0 keeps the subquery a per-member probe (PostgreSQL does not turn it into a join).
      qb.andWhere(
        `EXISTS (SELECT 1 FROM member_departments md
                  WHERE md.corp_id = m.corp_id AND md.userid = m.userid
                    AND md.department_id = ANY(:ids::int[]) OFFSET 0)`,
      );
    }
    const visible = access.memberVisibleSql('m');
    if (visible) qb.andWhere(visible.sql, visible.params);
    if (options.status) qb.andWhere('m.status = :status', { status: options.status });
    if (options.after !== undefined) qb.andWhere('m.userid > :after', { after: options.after });
    return qb.getMany();
  }
}
