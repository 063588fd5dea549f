import { Injectable, type OnModuleInit } from '@nestjs/common';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { MessageShape } from '@bufbuild/protobuf';
import {
  IDENTITY_APP_TOPIC,
  IDENTITY_DEPARTMENT_TOPIC,
  IDENTITY_TAG_TOPIC,
  type AppDeletedSchema,
  type AppSecretRotatedSchema,
  type DepartmentDeletedSchema,
  type DepartmentSchema,
  type TagDeletedSchema,
  type TagSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, type ReceivedEvent } from '@qiwei/events';
import type { EntityManager } from 'typeorm';
import { DepartmentGroupsService } from '../conversations/department-groups.service';

/**
 * The rest of messaging's projection of identity: departments with their paths (app messages
 * to a department reach its subtree), tags with whom they name, and apps (a rotated secret or
 * a deleted app ends its tokens here too). Each event carries the whole state, so applying it
 * is an upsert (or a delete).
 */
@Injectable()
export class OrganisationProjection implements OnModuleInit {
  constructor(
    private readonly subscriptions: EventSubscriptions,
    private readonly departmentGroups: DepartmentGroupsService,
  ) {}

  onModuleInit(): void {
    this.subscriptions.add({
      name: 'directory-departments',
      topic: IDENTITY_DEPARTMENT_TOPIC,
      handle: (event, em) => this.department(event, em),
    });
    this.subscriptions.add({
      name: 'directory-tags',
      topic: IDENTITY_TAG_TOPIC,
      handle: (event, em) => this.tag(event, em),
    });
    this.subscriptions.add({
      name: 'directory-apps',
      topic: IDENTITY_APP_TOPIC,
      handle: (event, em) => this.app(event, em),
    });
  }

  async department(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.department.deleted.v1') {
      const d = event.data as MessageShape<typeof DepartmentDeletedSchema>;
      await em.query('DELETE FROM directory_departments WHERE corp_id = $1 AND id = $2', [
        d.corpId,
        d.id,
      ]);
      await this.departmentGroups.departmentDeleted(em, d.corpId, d.id);
      return;
    }
    const d = (event.data as { department?: MessageShape<typeof DepartmentSchema> }).department;
    if (!d) return;
    const path = `/${d.path.join('/')}/`;
    const changedPaths = [path];
    if (event.type === 'qiwei.identity.department.moved.v1') {
      // The whole subtree moves with it: re-root every path below the old one.
      const [old] = await em.query<{ path: string }[]>(
        'SELECT path FROM directory_departments WHERE corp_id = $1 AND id = $2',
        [d.corpId, d.id],
      );
      if (old) changedPaths.push(old.path);
      if (old && old.path !== path) {
        await em.query(
          `UPDATE directory_departments SET path = $3 || substr(path, length($2) + 1)
            WHERE corp_id = $1 AND path LIKE $2 || '%'`,
          [d.corpId, old.path, path],
        );
      }
    }
    await em.query(
      `INSERT INTO directory_departments (corp_id, id, path) VALUES ($1, $2, $3)
       ON CONFLICT (corp_id, id) DO UPDATE SET path = $3`,
      [d.corpId, d.id, path],
    );
    // Members may have arrived before their department; a moved subtree changes groups above.
    if (event.type === 'qiwei.identity.department.created.v1')
      await this.departmentGroups.departmentCreated(em, d.corpId, d.id);
    if (event.type === 'qiwei.identity.department.moved.v1')
      await this.departmentGroups.departmentsChanged(em, d.corpId, changedPaths);
  }

  async tag(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.tag.deleted.v1') {
      const t = event.data as MessageShape<typeof TagDeletedSchema>;
      await em.query('DELETE FROM directory_tags WHERE corp_id = $1 AND id = $2', [t.corpId, t.id]);
      return;
    }
    const t = (event.data as { tag?: MessageShape<typeof TagSchema> }).tag;
    if (!t) return;
    await em.query(
      `INSERT INTO directory_tags (corp_id, id, userids, department_ids) VALUES ($1, $2, $3::text[], $4::int[])
       ON CONFLICT (corp_id, id) DO UPDATE SET userids = $3::text[], department_ids = $4::int[]`,
      [t.corpId, t.id, t.userids, t.departmentIds],
    );
  }

  async app(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.app.deleted.v1') {
      const a = event.data as MessageShape<typeof AppDeletedSchema>;
      await em.query(
        `INSERT INTO directory_apps (corp_id, agentid, deleted) VALUES ($1, $2, true)
         ON CONFLICT (corp_id, agentid) DO UPDATE SET deleted = true`,
        [a.corpId, a.agentid],
      );
      return;
    }
    if (event.type === 'qiwei.identity.app.secret_rotated.v1') {
      const r = event.data as MessageShape<typeof AppSecretRotatedSchema>;
      if (!r.app || !r.rotatedAt) return;
      await em.query(
        `INSERT INTO directory_apps (corp_id, agentid, tokens_valid_after) VALUES ($1, $2, $3)
         ON CONFLICT (corp_id, agentid) DO UPDATE SET tokens_valid_after = $3`,
        [r.app.corpId, r.app.agentid, timestampDate(r.rotatedAt)],
      );
      return;
    }
    const a = (event.data as { app?: { corpId: string; agentid: number } }).app;
    if (!a) return;
    await em.query(
      `INSERT INTO directory_apps (corp_id, agentid) VALUES ($1, $2) ON CONFLICT (corp_id, agentid) DO NOTHING`,
      [a.corpId, a.agentid],
    );
  }
}
