import { Injectable, type OnModuleInit } from '@nestjs/common';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  IDENTITY_MEMBER_TOPIC,
  type MemberDeletedSchema,
  type MemberSchema,
} from '@qiwei/contracts';
import { EventSubscriptions, type ReceivedEvent } from '@qiwei/events';
import type { MessageShape } from '@bufbuild/protobuf';
import type { EntityManager } from 'typeorm';
import { ConversationsService } from '../conversations/conversations.service';
import { DepartmentGroupsService } from '../conversations/department-groups.service';

type MemberData = { member?: MessageShape<typeof MemberSchema> };

/**
 * Keeps `directory_members` in step with identity's member events (event-carried state
 * transfer: each event but deleted has the member's whole state), and takes members who left
 * or were disabled out of their groups (离职自动退群) in the same transaction — and in and out
 * of department groups as their departments change.
 */
@Injectable()
export class DirectoryProjection implements OnModuleInit {
  constructor(
    private readonly subscriptions: EventSubscriptions,
    private readonly conversations: ConversationsService,
    private readonly departmentGroups: DepartmentGroupsService,
  ) {}

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
      await this.departmentGroups.serialise(em, data.corpId);
      await em.query(
        `UPDATE directory_members SET status = 'deleted', updated_at = $3
          WHERE corp_id = $1 AND userid = $2`,
        [data.corpId, data.userid, event.time],
      );
      await this.conversations.removeFromAllGroups(em, data.corpId, data.userid, 'left_corp');
      await this.departmentGroups.memberChanged(em, data.corpId, data.userid);
      return;
    }
    const member = (event.data as MemberData).member;
    if (!member) return;
    await this.departmentGroups.serialise(em, member.corpId);
    const before = await em.query<{ status: string }[]>(
      'SELECT status FROM directory_members WHERE corp_id = $1 AND userid = $2',
      [member.corpId, member.userid],
    );
    await em.query(
      `INSERT INTO directory_members (corp_id, userid, name, status, department_ids, tokens_valid_after,
                                      updated_at, leader_department_ids, admin_department_ids)
       VALUES ($1, $2, $3, $4, $5::int[], $6, $7, $8::int[], $9::int[])
       ON CONFLICT (corp_id, userid) DO UPDATE SET name = $3, status = $4, department_ids = $5::int[],
         tokens_valid_after = $6, updated_at = $7, leader_department_ids = $8::int[],
         admin_department_ids = $9::int[]`,
      [
        member.corpId,
        member.userid,
        member.name,
        member.status,
        member.departments.map((d) => d.departmentId),
        member.tokensValidAfter ? timestampDate(member.tokensValidAfter) : null,
        member.updatedAt ? timestampDate(member.updatedAt) : event.time,
        member.departments.filter((d) => d.isLeader).map((d) => d.departmentId),
        member.roles.includes('department_admin')
          ? member.adminScopes.map((s) => s.departmentId)
          : [],
      ],
    );
    const gone = member.status === 'left' || member.status === 'disabled';
    if (gone && before[0]?.status !== member.status) {
      await this.conversations.removeFromAllGroups(
        em,
        member.corpId,
        member.userid,
        member.status === 'left' ? 'left_corp' : 'disabled',
      );
    }
    await this.departmentGroups.memberChanged(em, member.corpId, member.userid);
  }
}
