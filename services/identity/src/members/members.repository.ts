import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
import { Member, MemberDepartment, type MemberStatus } from './member.entity';

/** Memberships from which a department listing walks members rather than collecting them. */
const MANY_MEMBERSHIPS = 2_000;

export interface MemberWithDepartments {
  member: Member;
  departments: MemberDepartment[];
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
    return {
      member,
      departments: (await this.departmentsOf(em, corpId, [userid])).get(userid) ?? [],
    };
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
    corpId: CorpId,
    department: { id: number; path: string },
    options: { recursive: boolean; status?: MemberStatus; after?: string; limit: number },
  ): Promise<Member[]> {
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
    if (options.status) qb.andWhere('m.status = :status', { status: options.status });
    if (options.after !== undefined) qb.andWhere('m.userid > :after', { after: options.after });
    return qb.getMany();
  }
}
