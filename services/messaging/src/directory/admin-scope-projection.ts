import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { MessageShape } from '@bufbuild/protobuf';
import {
  IDENTITY_MEMBER_TOPIC,
  type MemberDeletedSchema,
  type MemberSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, type ReceivedEvent } from '@qiwei/events';
import type { EntityManager } from 'typeorm';

/**
 * Department admins' scopes (department subtrees with permissions), projected from identity's
 * member events into `directory_admin_scopes`: messaging checks `announcements:publish` against
 * them. A consumer group of its own, so it builds from the topic's start independently of the
 * member directory. Only active department admins keep rows.
 */
@Injectable()
export class AdminScopeProjection implements OnModuleInit {
  constructor(private readonly subscriptions: EventSubscriptions) {}

  onModuleInit(): void {
    this.subscriptions.add({
      name: 'directory-admin-scopes',
      topic: IDENTITY_MEMBER_TOPIC,
      handle: (event, em) => this.apply(event, em),
    });
  }

  async apply(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.member.deleted.v1') {
      const d = event.data as MessageShape<typeof MemberDeletedSchema>;
      await em.query('DELETE FROM directory_admin_scopes WHERE corp_id = $1 AND userid = $2', [
        d.corpId,
        d.userid,
      ]);
      return;
    }
    const member = (event.data as { member?: MessageShape<typeof MemberSchema> }).member;
    if (!member) return;
    await em.query('DELETE FROM directory_admin_scopes WHERE corp_id = $1 AND userid = $2', [
      member.corpId,
      member.userid,
    ]);
    const scopes =
      member.status === 'active' && member.roles.includes('department_admin')
        ? member.adminScopes
        : [];
    if (!scopes.length) return;
    await em.query(
      `INSERT INTO directory_admin_scopes (corp_id, userid, department_id, permissions)
       SELECT $1, $2, s.department_id, ARRAY(SELECT jsonb_array_elements_text(s.permissions))
         FROM jsonb_to_recordset($3::jsonb) AS s(department_id int, permissions jsonb)
       ON CONFLICT (corp_id, userid, department_id) DO UPDATE SET permissions = EXCLUDED.permissions`,
      [
        member.corpId,
        member.userid,
        JSON.stringify(
          scopes.map((s) => ({ department_id: s.departmentId, permissions: s.permissions })),
        ),
      ],
    );
  }
}
