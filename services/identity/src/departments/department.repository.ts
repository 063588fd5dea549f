import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import { In, type EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { decodeCursor, encodeCursor, isIdCursor } from '../pagination/cursor';
import { Department } from './department.entity';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface ChildrenCursor {
  order: number;
  id: number;
}

const isChildrenCursor = (v: unknown): v is ChildrenCursor =>
  typeof v === 'object' &&
  v !== null &&
  Number.isInteger((v as ChildrenCursor).order) &&
  Number.isInteger((v as ChildrenCursor).id);

/** Queries on departments. Every method is scoped to one corp. */
@Injectable()
export class DepartmentRepository {
  async allocateId(em: EntityManager, corpId: CorpId, explicitId?: number): Promise<number> {
    if (explicitId !== undefined) {
      await em.query(
        'UPDATE corps SET next_department_id = GREATEST(next_department_id, $2 + 1) WHERE corp_id = $1',
        [corpId, explicitId],
      );
      return explicitId;
    }
    return this.allocateIds(em, corpId, 1);
  }

  /** `count` consecutive new ids; returns the first. */
  async allocateIds(em: EntityManager, corpId: CorpId, count: number): Promise<number> {
    const rows: { id: number }[] = await em.query(
      `WITH allocated AS (
         UPDATE corps SET next_department_id = next_department_id + $2 WHERE corp_id = $1
         RETURNING next_department_id - $2 AS id
       ) SELECT id FROM allocated`,
      [corpId, count],
    );
    return rows[0].id;
  }

  find(em: EntityManager, corpId: CorpId, id: number): Promise<Department | null> {
    return em.getRepository(Department).findOneBy({ corpId, id });
  }

  findMany(em: EntityManager, corpId: CorpId, ids: number[]): Promise<Department[]> {
    return em.getRepository(Department).findBy({ corpId, id: In(ids) });
  }

  count(em: EntityManager, corpId: CorpId): Promise<number> {
    return em.getRepository(Department).countBy({ corpId });
  }

  async siblingNamed(
    em: EntityManager,
    corpId: CorpId,
    parentId: number,
    name: string,
  ): Promise<Department | null> {
    return em.getRepository(Department).findOneBy({ corpId, parentId, name });
  }

  async hasChildren(em: EntityManager, corpId: CorpId, id: number): Promise<boolean> {
    return em.getRepository(Department).existsBy({ corpId, parentId: id });
  }

  async hasMembers(em: EntityManager, corpId: CorpId, id: number): Promise<boolean> {
    const rows: unknown[] = await em.query(
      'SELECT 1 FROM member_departments WHERE corp_id = $1 AND department_id = $2 LIMIT 1',
      [corpId, id],
    );
    return rows.length > 0;
  }

  async hasAdmins(em: EntityManager, corpId: CorpId, id: number): Promise<boolean> {
    const rows: unknown[] = await em.query(
      'SELECT 1 FROM admin_scopes WHERE corp_id = $1 AND department_id = $2 LIMIT 1',
      [corpId, id],
    );
    return rows.length > 0;
  }

  /** Userids of the department's leaders (部门负责人). */
  async leaders(em: EntityManager, corpId: CorpId, id: number): Promise<string[]> {
    return (await this.leadersOf(em, corpId, [id])).get(id) ?? [];
  }

  /** Userids of the leaders of several departments, in one query, by department id. */
  async leadersOf(
    em: EntityManager,
    corpId: CorpId,
    ids: number[],
  ): Promise<Map<number, string[]>> {
    const rows = await em.query<{ department_id: number; userid: string }[]>(
      `SELECT department_id, userid FROM member_departments
        WHERE corp_id = $1 AND department_id = ANY($2::int[]) AND is_leader ORDER BY userid`,
      [corpId, ids],
    );
    const byDepartment = new Map<number, string[]>();
    for (const r of rows)
      byDepartment.set(r.department_id, [...(byDepartment.get(r.department_id) ?? []), r.userid]);
    return byDepartment;
  }

  /** Department admins whose scope is rooted at this department. */
  async admins(
    em: EntityManager,
    corpId: CorpId,
    id: number,
  ): Promise<{ userid: string; permissions: string[] }[]> {
    return em.query(
      `SELECT userid, permissions FROM admin_scopes
        WHERE corp_id = $1 AND department_id = $2 ORDER BY userid`,
      [corpId, id],
    );
  }

  /** Deepest level inside the subtree rooted at `path`. */
  async maxDepthUnder(em: EntityManager, corpId: CorpId, path: string): Promise<number> {
    const rows: { max: number }[] = await em.query(
      'SELECT max(depth) AS max FROM departments WHERE corp_id = $1 AND path LIKE $2',
      [corpId, `${path}%`],
    );
    return rows[0].max;
  }

  /** Re-roots a whole subtree: every path under `oldPath` now starts with `newPath`. */
  async moveSubtree(
    em: EntityManager,
    corpId: CorpId,
    oldPath: string,
    newPath: string,
    depthDelta: number,
  ): Promise<void> {
    await em.query(
      `UPDATE departments
          SET path = $3 || substr(path, length($2) + 1), depth = depth + $4, updated_at = now()
        WHERE corp_id = $1 AND path LIKE $2 || '%'`,
      [corpId, oldPath, newPath, depthDelta],
    );
  }

  /** Children, higher `order` first, then by id; keyset-paginated. */
  async children(
    em: EntityManager,
    access: Access,
    parentId: number,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    const after = decodeCursor(cursor, isChildrenCursor);
    const qb = em
      .getRepository(Department)
      .createQueryBuilder('d')
      .where('d.corp_id = :corpId AND d.parent_id = :parentId', {
        corpId: access.corpId,
        parentId,
      })
      .orderBy('d.order', 'DESC')
      .addOrderBy('d.id', 'ASC')
      .limit(limit + 1);
    const visible = access.departmentVisibleSql('d');
    if (visible) qb.andWhere(visible.sql, visible.params);
    if (after) {
      qb.andWhere('(d.order < :order OR (d.order = :order AND d.id > :id))', after);
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > limit && last ? encodeCursor({ order: last.order, id: last.id }) : null,
    };
  }

  /** The department and everything under it, by id; keyset-paginated. */
  async subtree(
    em: EntityManager,
    access: Access,
    path: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    const after = decodeCursor(cursor, isIdCursor);
    const qb = em
      .getRepository(Department)
      .createQueryBuilder('d')
      .where('d.corp_id = :corpId AND d.path LIKE :prefix', {
        corpId: access.corpId,
        prefix: `${path}%`,
      })
      .orderBy('d.id', 'ASC')
      .limit(limit + 1);
    const visible = access.departmentVisibleSql('d');
    if (visible) qb.andWhere(visible.sql, visible.params);
    if (after) qb.andWhere('d.id > :id', { id: after.id });
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null,
    };
  }
}
