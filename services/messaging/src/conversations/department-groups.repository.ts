import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Department groups against messaging's projection of the directory (`directory_departments`
 * paths such as `/1/5/7/`, `directory_members` with their departments). Every method is scoped
 * to one corp.
 */
@Injectable()
export class DepartmentGroupsRepository {
  /**
   * Serialises membership decisions of one corp's department groups until commit: the member
   * and department consumers run concurrently, and whichever decides second must see what the
   * first committed (a member moving while their department moves).
   */
  async lockCorp(em: EntityManager, corpId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('department-groups'), hashtext($1))`, [
      corpId,
    ]);
  }

  /** The department's ids from the root down to it, if messaging knows it. */
  async pathOf(em: EntityManager, corpId: string, departmentId: number): Promise<number[] | null> {
    const [row] = await em.query<{ path: string }[]>(
      'SELECT path FROM directory_departments WHERE corp_id = $1 AND id = $2',
      [corpId, departmentId],
    );
    return row ? row.path.split('/').filter(Boolean).map(Number) : null;
  }

  /** Departments the member leads, and the tops of the subtrees they administer. */
  async authorityOf(
    em: EntityManager,
    corpId: string,
    userid: string,
  ): Promise<{ leaderOf: number[]; adminOf: number[] } | null> {
    const [row] = await em.query<
      { leader_department_ids: number[]; admin_department_ids: number[] }[]
    >(
      `SELECT leader_department_ids, admin_department_ids FROM directory_members
        WHERE corp_id = $1 AND userid = $2 AND status = 'active'`,
      [corpId, userid],
    );
    return row ? { leaderOf: row.leader_department_ids, adminOf: row.admin_department_ids } : null;
  }

  /** The member's status and departments, as the projection has them. */
  async placementOf(
    em: EntityManager,
    corpId: string,
    userid: string,
  ): Promise<{ status: string; departmentIds: number[] } | null> {
    const [row] = await em.query<{ status: string; department_ids: number[] }[]>(
      'SELECT status, department_ids FROM directory_members WHERE corp_id = $1 AND userid = $2',
      [corpId, userid],
    );
    return row ? { status: row.status, departmentIds: row.department_ids } : null;
  }

  /** Active members of the department or any department below it. */
  async subtreeMembers(em: EntityManager, corpId: string, departmentId: number): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `SELECT m.userid FROM directory_members m
        WHERE m.corp_id = $1 AND m.status = 'active'
          AND m.department_ids && ARRAY(
            SELECT d.id FROM directory_departments top
              JOIN directory_departments d ON d.corp_id = top.corp_id AND d.path LIKE top.path || '%'
             WHERE top.corp_id = $1 AND top.id = $2)
        ORDER BY m.userid`,
      [corpId, departmentId],
    );
    return rows.map((r) => r.userid);
  }

  /** Members (any status) placed directly in the department. */
  async membersOf(em: EntityManager, corpId: string, departmentId: number): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `SELECT userid FROM directory_members
        WHERE corp_id = $1 AND department_ids @> ARRAY[$2::int] ORDER BY userid`,
      [corpId, departmentId],
    );
    return rows.map((r) => r.userid);
  }

  /** The department's live department group. */
  async groupOf(em: EntityManager, corpId: string, departmentId: number): Promise<string | null> {
    const [row] = await em.query<{ id: string }[]>(
      `SELECT id FROM conversations
        WHERE corp_id = $1 AND kind = 'department' AND department_id = $2 AND disbanded_at IS NULL`,
      [corpId, departmentId],
    );
    return row?.id ?? null;
  }

  /** Live department groups of these departments or of departments above them. */
  async groupsCovering(
    em: EntityManager,
    corpId: string,
    departmentIds: number[],
  ): Promise<string[]> {
    if (!departmentIds.length) return [];
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversations c
         JOIN directory_departments g ON g.corp_id = c.corp_id AND g.id = c.department_id
        WHERE c.corp_id = $1 AND c.kind = 'department' AND c.disbanded_at IS NULL
          AND EXISTS (SELECT 1 FROM directory_departments d
                       WHERE d.corp_id = $1 AND d.id = ANY($2::int[]) AND d.path LIKE g.path || '%')
        ORDER BY c.id`,
      [corpId, departmentIds],
    );
    return rows.map((r) => r.id);
  }

  /** Live department groups whose department is at or above one of these paths. */
  async groupsAbove(em: EntityManager, corpId: string, paths: string[]): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversations c
         JOIN directory_departments g ON g.corp_id = c.corp_id AND g.id = c.department_id
        WHERE c.corp_id = $1 AND c.kind = 'department' AND c.disbanded_at IS NULL
          AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS p WHERE p LIKE g.path || '%')
        ORDER BY c.id`,
      [corpId, paths],
    );
    return rows.map((r) => r.id);
  }

  /** Puts members on a group's waiting list; returns those who were not on it already. */
  async wait(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    userids: string[],
  ): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `WITH added AS (
         INSERT INTO department_group_waitlist (corp_id, conversation_id, userid)
         SELECT $1, $2, unnest($3::text[])
         ON CONFLICT DO NOTHING
         RETURNING userid
       ) SELECT userid FROM added ORDER BY userid`,
      [corpId, conversationId, userids],
    );
    return rows.map((r) => r.userid);
  }

  /** Takes members off a group's waiting list (they joined). */
  async unwait(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    userids: string[],
  ): Promise<void> {
    await em.query(
      `DELETE FROM department_group_waitlist
        WHERE corp_id = $1 AND conversation_id = $2 AND userid = ANY($3::text[])`,
      [corpId, conversationId, userids],
    );
  }

  /** The member stops waiting for every group but these (those that still cover them). */
  async unwaitElsewhere(
    em: EntityManager,
    corpId: string,
    userid: string,
    keep: string[],
  ): Promise<void> {
    await em.query(
      `DELETE FROM department_group_waitlist
        WHERE corp_id = $1 AND userid = $2 AND NOT (conversation_id = ANY($3::uuid[]))`,
      [corpId, userid, keep],
    );
  }

  /** Only these may keep waiting for the group (the subtree's active members). */
  async keepWaiting(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    keep: string[],
  ): Promise<void> {
    await em.query(
      `DELETE FROM department_group_waitlist
        WHERE corp_id = $1 AND conversation_id = $2 AND NOT (userid = ANY($3::text[]))`,
      [corpId, conversationId, keep],
    );
  }

  /**
   * The group's first `count` waiting members who are still active members of its subtree,
   * oldest first.
   */
  async nextWaiting(
    em: EntityManager,
    corpId: string,
    conversationId: string,
    departmentId: number,
    count: number,
  ): Promise<string[]> {
    const rows = await em.query<{ userid: string }[]>(
      `SELECT w.userid FROM department_group_waitlist w
         JOIN directory_members m ON m.corp_id = w.corp_id AND m.userid = w.userid
        WHERE w.corp_id = $1 AND w.conversation_id = $2 AND m.status = 'active'
          AND m.department_ids && ARRAY(
            SELECT d.id FROM directory_departments top
              JOIN directory_departments d ON d.corp_id = top.corp_id AND d.path LIKE top.path || '%'
             WHERE top.corp_id = $1 AND top.id = $3)
        ORDER BY w.since, w.userid
        LIMIT $4`,
      [corpId, conversationId, departmentId, count],
    );
    return rows.map((r) => r.userid);
  }

  /** Live department groups of the corp with members waiting and a seat free. */
  async groupsWithSeatsAndWaiting(em: EntityManager, corpId: string): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversations c
        WHERE c.corp_id = $1 AND c.kind = 'department' AND c.disbanded_at IS NULL
          AND EXISTS (SELECT 1 FROM department_group_waitlist w
                       WHERE w.corp_id = c.corp_id AND w.conversation_id = c.id)
          AND (SELECT count(*) FROM conversation_members m
                WHERE m.corp_id = c.corp_id AND m.conversation_id = c.id) < c.member_limit
        ORDER BY c.id`,
      [corpId],
    );
    return rows.map((r) => r.id);
  }

  /** Live department groups the member is in. */
  async groupsOfMember(em: EntityManager, corpId: string, userid: string): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `SELECT c.id FROM conversation_members m
         JOIN conversations c ON c.corp_id = m.corp_id AND c.id = m.conversation_id
        WHERE m.corp_id = $1 AND m.userid = $2 AND c.kind = 'department' AND c.disbanded_at IS NULL
        ORDER BY c.id`,
      [corpId, userid],
    );
    return rows.map((r) => r.id);
  }
}
