import { Injectable } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import type { EntityManager } from 'typeorm';
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
    corpId: CorpId,
    parentId: number,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    const after = decodeCursor(cursor, isChildrenCursor);
    const qb = em
      .getRepository(Department)
      .createQueryBuilder('d')
      .where('d.corp_id = :corpId AND d.parent_id = :parentId', { corpId, parentId })
      .orderBy('d.order', 'DESC')
      .addOrderBy('d.id', 'ASC')
      .limit(limit + 1);
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
    corpId: CorpId,
    path: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<Department>> {
    const after = decodeCursor(cursor, isIdCursor);
    const qb = em
      .getRepository(Department)
      .createQueryBuilder('d')
      .where('d.corp_id = :corpId AND d.path LIKE :prefix', { corpId, prefix: `${path}%` })
      .orderBy('d.id', 'ASC')
      .limit(limit + 1);
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
