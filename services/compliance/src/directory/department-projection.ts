import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { MessageShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  IDENTITY_DEPARTMENT_TOPIC,
  type DepartmentDeletedSchema,
  type DepartmentSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, type ReceivedEvent } from '@qiwei/events';
import type { EntityManager } from 'typeorm';

type DepartmentData = { department?: MessageShape<typeof DepartmentSchema> };

/**
 * Keeps `directory_departments` (id, parent, path from the root) in step with identity's
 * department events, so that a sender's departments can be widened to their ancestors: the
 * officer of 北京分行 covers 北京分行/朝阳支行's members too.
 */
@Injectable()
export class DepartmentProjection implements OnModuleInit {
  constructor(private readonly subscriptions: EventSubscriptions) {}

  onModuleInit(): void {
    this.subscriptions.add({
      name: 'directory-departments',
      topic: IDENTITY_DEPARTMENT_TOPIC,
      handle: (event, em) => this.apply(event, em),
    });
  }

  async apply(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.department.deleted.v1') {
      const data = event.data as MessageShape<typeof DepartmentDeletedSchema>;
      await em.query('DELETE FROM directory_departments WHERE corp_id = $1 AND id = $2', [
        data.corpId,
        data.id,
      ]);
      return;
    }
    const d = (event.data as DepartmentData).department;
    if (!d) return;
    const updatedAt = d.updatedAt ? timestampDate(d.updatedAt) : event.time;
    const path = d.path.length ? d.path : [d.id];
    await em.query(
      `INSERT INTO directory_departments (corp_id, id, parent_id, path, updated_at)
       VALUES ($1, $2, $3, $4::int[], $5)
       ON CONFLICT (corp_id, id) DO UPDATE SET parent_id = $3, path = $4::int[], updated_at = $5
         WHERE directory_departments.updated_at <= $5`,
      [d.corpId, d.id, d.parentId ?? null, path, updatedAt],
    );
    if (event.type === 'qiwei.identity.department.moved.v1') {
      // The subtree moved with it: each descendant's path is the new path plus its own tail.
      await em.query(
        `UPDATE directory_departments
            SET path = $3::int[] || path[array_position(path, $2) + 1:]
          WHERE corp_id = $1 AND path @> ARRAY[$2]::int[] AND id <> $2`,
        [d.corpId, d.id, path],
      );
    }
  }
}
