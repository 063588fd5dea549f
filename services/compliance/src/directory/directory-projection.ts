import { Injectable, type OnModuleInit } from '@nestjs/common';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { MessageShape } from '@bufbuild/protobuf';
import {
  IDENTITY_MEMBER_TOPIC,
  type MemberDeletedSchema,
  type MemberSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, type ReceivedEvent } from '@qiwei/events';
import type { EntityManager } from 'typeorm';

type MemberData = { member?: MessageShape<typeof MemberSchema> };

/**
 * Keeps `directory_members` in step with identity's member events (each event but deleted has
 * the member's whole state, roles included): officers' tokens stop working as soon as their
 * role or standing changes, and alerts are only ever assigned to active officers.
 */
@Injectable()
export class DirectoryProjection implements OnModuleInit {
  constructor(private readonly subscriptions: EventSubscriptions) {}

  onModuleInit(): void {
    this.subscriptions.add({
      name: 'directory',
      topic: IDENTITY_MEMBER_TOPIC,
      handle: (event, em) => this.apply(event, em),
    });
  }

  async apply(event: ReceivedEvent, em: EntityManager): Promise<void> {
    if (event.type === 'qiwei.identity.member.deleted.v1') {
      const data = event.data as MessageShape<typeof MemberDeletedSchema>;
      await em.query(
        `UPDATE directory_members SET status = 'deleted', roles = '{}', updated_at = $3
          WHERE corp_id = $1 AND userid = $2`,
        [data.corpId, data.userid, event.time],
      );
      return;
    }
    const member = (event.data as MemberData).member;
    if (!member) return;
    await em.query(
      `INSERT INTO directory_members (corp_id, userid, name, status, roles, department_ids, tokens_valid_after, updated_at, scope_department_ids)
       VALUES ($1, $2, $3, $4, $5::text[], $6::int[], $7, $8, $9::int[])
       ON CONFLICT (corp_id, userid) DO UPDATE SET name = $3, status = $4, roles = $5::text[],
         department_ids = $6::int[], tokens_valid_after = $7, updated_at = $8,
         scope_department_ids = $9::int[]`,
      [
        member.corpId,
        member.userid,
        member.name,
        member.status,
        member.roles,
        member.departments.map((d) => d.departmentId),
        member.tokensValidAfter ? timestampDate(member.tokensValidAfter) : null,
        member.updatedAt ? timestampDate(member.updatedAt) : event.time,
        // An officer's coverage (see coverage/coverage.ts).
        member.adminScopes.map((s) => s.departmentId),
      ],
    );
  }
}
