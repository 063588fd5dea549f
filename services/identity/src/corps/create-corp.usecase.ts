import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { IDENTITY_CORP_TOPIC, IDENTITY_MEMBER_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { asCorpId, TransactionRunner } from '@qiwei/persistence';
import { DepartmentResponse } from '../departments/dto/department.dto';
import { DepartmentsService } from '../departments/departments.service';
import { ROOT_DEPARTMENT_ID } from '../departments/department.entity';
import { Member, MemberDepartment } from '../members/member.entity';
import { memberChanged } from '../members/member-events';
import { MembersRepository, type MemberWithDepartments } from '../members/members.repository';
import { AccessTokensService } from '../tokens/access-tokens.service';
import { recordAudit } from '../audit/audit-log';
import { Corp } from './corp.entity';
import type { CreateCorpDto, CreatedCorpResponse } from './dto/corp.dto';

/** WeCom-style corp id: `ww` and 16 hex digits. */
export function newCorpId(): string {
  return `ww${randomBytes(8).toString('hex')}`;
}

/**
 * A new tenant: the corp, its root department (id 1, named after the corp) and its first
 * super admin in the root department, in one transaction with their events (corp, root
 * department, member created); then a token for that admin.
 */
@Injectable()
export class CreateCorpUseCase {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly departments: DepartmentsService,
    private readonly tokens: AccessTokensService,
    private readonly outbox: Outbox,
    private readonly members: MembersRepository,
  ) {}

  async execute(input: CreateCorpDto): Promise<CreatedCorpResponse> {
    const corpId = asCorpId(newCorpId());
    const { corp, root, admin } = await this.transactions.run(async (em) => {
      const corp = await em
        .getRepository(Corp)
        .save(em.getRepository(Corp).create({ corpId, name: input.name }));
      const root = await this.departments.createRoot(em, corpId, input.name);
      const admin = await em.getRepository(Member).save(
        em.getRepository(Member).create({
          corpId,
          userid: input.admin.userid,
          name: input.admin.name,
          status: 'active',
          roles: ['super_admin'],
        }),
      );
      await em
        .getRepository(MemberDepartment)
        .insert({ corpId, userid: admin.userid, departmentId: ROOT_DEPARTMENT_ID, isMain: true });
      await this.outbox.publish(em, IDENTITY_CORP_TOPIC, {
        type: IDENTITY_CORP_TOPIC.events[0].type,
        tenant: corpId,
        key: corpId,
        subject: `corp/${corpId}`,
        data: { corp: { corpId, name: corp.name, createdAt: timestampFromDate(corp.createdAt) } },
      });
      // The first super admin is a member like any other: services that project the directory
      // (messaging, compliance) learn of them from this event.
      const state = (await this.members.findWithDepartments(
        em,
        corpId,
        admin.userid,
      )) as MemberWithDepartments;
      await this.outbox.publish(em, IDENTITY_MEMBER_TOPIC, memberChanged('created', state));
      await recordAudit(em, corpId, {
        action: 'corp.created',
        targetType: 'corp',
        targetId: corpId,
        after: { corp, admin },
      });
      return { corp, root, admin };
    });
    const token = await this.tokens.issue({ corpId, userId: admin.userid, roles: admin.roles });
    return {
      corp: { corpId: corp.corpId, name: corp.name, createdAt: corp.createdAt.toISOString() },
      rootDepartment: DepartmentResponse.of(root),
      admin: { userid: admin.userid, name: admin.name, roles: admin.roles },
      ...token,
    };
  }
}
