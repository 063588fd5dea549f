import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import { IDENTITY_TAG_TOPIC } from '@qiwei/contracts';
import { Outbox, type NewEvent } from '@qiwei/events';
import { isUniqueViolation, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { AccessService } from '../access/access.service';
import { recordAudit } from '../audit/audit-log';
import { lockCorpForWrite } from '../corps/corp-lock';
import { Member } from '../members/member.entity';
import { Tag } from './tag.entity';
import {
  TagIdTakenException,
  TagNameTakenException,
  TagNotFoundException,
  TagTargetsNotFoundException,
} from './tag.exceptions';

export interface TagView {
  tag: Tag;
  userids: string[];
  departmentIds: number[];
}

type TagChange = 'created' | 'updated' | 'members_changed';

/** Tags of one corp; writes take the corp's row lock and announce themselves on qiwei.identity.tag.v1. */
@Injectable()
export class TagsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly access: AccessService,
  ) {}

  create(access: Access, name: string, explicitId?: number): Promise<TagView> {
    access.assertHasPermission('tags:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      if (await em.getRepository(Tag).existsBy({ corpId, name }))
        throw new TagNameTakenException(name);
      let id = explicitId;
      if (id !== undefined) {
        if (await em.getRepository(Tag).existsBy({ corpId, id })) throw new TagIdTakenException(id);
        await em.query(
          'UPDATE corps SET next_tag_id = GREATEST(next_tag_id, $2 + 1) WHERE corp_id = $1',
          [corpId, id],
        );
      } else {
        const rows = await em.query<{ id: number }[]>(
          `WITH allocated AS (UPDATE corps SET next_tag_id = next_tag_id + 1 WHERE corp_id = $1
             RETURNING next_tag_id - 1 AS id) SELECT id FROM allocated`,
          [corpId],
        );
        id = rows[0].id;
      }
      await em.getRepository(Tag).insert({ corpId, id, name });
      return this.announce(em, corpId, id, 'created');
    });
  }

  rename(access: Access, id: number, name: string): Promise<TagView> {
    access.assertHasPermission('tags:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      await this.mustExist(em, corpId, id);
      try {
        await em.getRepository(Tag).update({ corpId, id }, { name });
      } catch (error) {
        if (isUniqueViolation(error, 'tags_name_uq')) throw new TagNameTakenException(name);
        throw error;
      }
      return this.announce(em, corpId, id, 'updated');
    });
  }

  remove(access: Access, id: number): Promise<void> {
    access.assertHasPermission('tags:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      await this.mustExist(em, corpId, id);
      const before = await this.view(em, corpId, id);
      await em.getRepository(Tag).delete({ corpId, id });
      await recordAudit(em, corpId, {
        action: 'tag.deleted',
        targetType: 'tag',
        targetId: id,
        before,
      });
      const deleted: NewEvent = {
        type: 'qiwei.identity.tag.deleted.v1',
        tenant: corpId,
        key: corpId,
        subject: `tag/${id}`,
        data: { corpId, id, deletedAt: timestampFromDate(new Date()) },
      };
      await this.outbox.publish(em, IDENTITY_TAG_TOPIC, deleted);
    });
  }

  /** Adds or removes members and departments, all or nothing. */
  changeTargets(
    access: Access,
    id: number,
    change: 'add' | 'remove',
    targets: { userids: string[]; departmentIds: number[] },
  ): Promise<TagView> {
    access.assertHasPermission('tags:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      await this.mustExist(em, corpId, id);
      await this.access.assertTargetsInScope(em, access, 'tags:manage', targets);
      if (change === 'add') {
        const knownMembers = new Set(
          (
            await em.query<{ userid: string }[]>(
              'SELECT userid FROM members WHERE corp_id = $1 AND userid = ANY($2::text[])',
              [corpId, targets.userids],
            )
          ).map((r) => r.userid),
        );
        const knownDepartments = new Set(
          (
            await em.query<{ id: number }[]>(
              'SELECT id FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
              [corpId, targets.departmentIds],
            )
          ).map((r) => r.id),
        );
        const missingMembers = targets.userids.filter((u) => !knownMembers.has(u));
        const missingDepartments = targets.departmentIds.filter((d) => !knownDepartments.has(d));
        if (missingMembers.length || missingDepartments.length) {
          throw new TagTargetsNotFoundException(missingMembers, missingDepartments);
        }
        await em.query(
          `INSERT INTO tag_members (corp_id, tag_id, userid) SELECT $1, $2, u FROM unnest($3::text[]) u ON CONFLICT DO NOTHING`,
          [corpId, id, targets.userids],
        );
        await em.query(
          `INSERT INTO tag_departments (corp_id, tag_id, department_id) SELECT $1, $2, d FROM unnest($3::int[]) d
           ON CONFLICT DO NOTHING`,
          [corpId, id, targets.departmentIds],
        );
      } else {
        await em.query(
          'DELETE FROM tag_members WHERE corp_id = $1 AND tag_id = $2 AND userid = ANY($3::text[])',
          [corpId, id, targets.userids],
        );
        await em.query(
          'DELETE FROM tag_departments WHERE corp_id = $1 AND tag_id = $2 AND department_id = ANY($3::int[])',
          [corpId, id, targets.departmentIds],
        );
      }
      await em.getRepository(Tag).update({ corpId, id }, { updatedAt: new Date() });
      return this.announce(em, corpId, id, 'members_changed');
    });
  }

  /** The tag, with only the members and departments the caller can see. */
  async get(access: Access, id: number): Promise<TagView> {
    const em = this.dataSource.manager;
    if (!readsTag(access, id)) throw new TagNotFoundException(id);
    const view = await this.view(em, access.corpId, id);
    const departments = access.departmentVisibleSql('d');
    const members = access.memberVisibleSql('m');
    if (!departments || !members) return view;
    const [visibleDepartments, visibleMembers] = await Promise.all([
      em
        .createQueryBuilder()
        .select('d.id', 'id')
        .from('departments', 'd')
        .where('d.corp_id = :corpId AND d.id = ANY(:ids::int[])', {
          corpId: access.corpId,
          ids: view.departmentIds,
        })
        .andWhere(departments.sql, departments.params)
        .getRawMany<{ id: number }>(),
      em
        .createQueryBuilder()
        .select('m.userid', 'userid')
        .from('members', 'm')
        .where('m.corp_id = :corpId AND m.userid = ANY(:userids::text[])', {
          corpId: access.corpId,
          userids: view.userids,
        })
        .andWhere(members.sql, members.params)
        .getRawMany<{ userid: string }>(),
    ]);
    const seenDepartments = new Set(visibleDepartments.map((d) => d.id));
    const seenMembers = new Set(visibleMembers.map((m) => m.userid));
    return {
      tag: view.tag,
      userids: view.userids.filter((u) => seenMembers.has(u)),
      departmentIds: view.departmentIds.filter((d) => seenDepartments.has(d)),
    };
  }

  /** The corp's tags by id; an app sees only the tags of its range, unless it manages tags. */
  async list(
    access: Access,
    afterId: number,
    limit: number,
  ): Promise<{ items: Tag[]; more: boolean }> {
    const qb = this.dataSource
      .getRepository(Tag)
      .createQueryBuilder('t')
      .where('t.corp_id = :corpId AND t.id > :afterId', { corpId: access.corpId, afterId })
      .orderBy('t.id', 'ASC')
      .limit(limit + 1);
    if (access.app && !managesTags(access))
      qb.andWhere('t.id = ANY(:tagIds::int[])', { tagIds: access.app.tagIds });
    const rows = await qb.getMany();
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** Members named directly or through a tagged department's subtree, by userid. */
  async effectiveMembers(
    access: Access,
    id: number,
    afterUserid: string,
    limit: number,
  ): Promise<{ items: Member[]; more: boolean }> {
    const corpId = access.corpId;
    if (!readsTag(access, id)) throw new TagNotFoundException(id);
    await this.mustExist(this.dataSource.manager, corpId, id);
    const qb = this.dataSource
      .getRepository(Member)
      .createQueryBuilder('m')
      .where('m.corp_id = :corpId AND m.userid > :after', { corpId, after: afterUserid })
      .andWhere(
        `(EXISTS (SELECT 1 FROM tag_members tm WHERE tm.corp_id = m.corp_id AND tm.tag_id = :id AND tm.userid = m.userid)
          OR EXISTS (SELECT 1 FROM tag_departments td
                       JOIN departments tagged ON tagged.corp_id = td.corp_id AND tagged.id = td.department_id
                       JOIN departments d ON d.corp_id = td.corp_id AND d.path LIKE tagged.path || '%'
                       JOIN member_departments md ON md.corp_id = d.corp_id AND md.department_id = d.id
                      WHERE td.corp_id = m.corp_id AND td.tag_id = :id AND md.userid = m.userid))`,
        { id },
      )
      .orderBy('m.userid', 'ASC')
      .limit(limit + 1);
    const visible = access.memberVisibleSql('m');
    if (visible) qb.andWhere(visible.sql, visible.params);
    const rows = await qb.getMany();
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }

  private async mustExist(em: EntityManager, corpId: CorpId, id: number): Promise<void> {
    if (!(await em.getRepository(Tag).existsBy({ corpId, id }))) throw new TagNotFoundException(id);
  }

  private async view(em: EntityManager, corpId: CorpId, id: number): Promise<TagView> {
    const tag = await em.getRepository(Tag).findOneBy({ corpId, id });
    if (!tag) throw new TagNotFoundException(id);
    const userids = (
      await em.query<{ userid: string }[]>(
        'SELECT userid FROM tag_members WHERE corp_id = $1 AND tag_id = $2 ORDER BY userid',
        [corpId, id],
      )
    ).map((r) => r.userid);
    const departmentIds = (
      await em.query<{ department_id: number }[]>(
        'SELECT department_id FROM tag_departments WHERE corp_id = $1 AND tag_id = $2 ORDER BY department_id',
        [corpId, id],
      )
    ).map((r) => r.department_id);
    return { tag, userids, departmentIds };
  }

  private async announce(
    em: EntityManager,
    corpId: CorpId,
    id: number,
    change: TagChange,
  ): Promise<TagView> {
    const view = await this.view(em, corpId, id);
    const event: NewEvent = {
      type: `qiwei.identity.tag.${change}.v1`,
      tenant: corpId,
      key: corpId,
      subject: `tag/${id}`,
      data: {
        tag: {
          corpId,
          id,
          name: view.tag.name,
          userids: view.userids,
          departmentIds: view.departmentIds,
          createdAt: timestampFromDate(view.tag.createdAt),
          updatedAt: timestampFromDate(view.tag.updatedAt),
        },
      },
    };
    await this.outbox.publish(em, IDENTITY_TAG_TOPIC, event);
    await recordAudit(em, corpId, {
      action: `tag.${change}`,
      targetType: 'tag',
      targetId: id,
      after: view,
    });
    return view;
  }
}

/** An app granted `tags:manage` (a contacts-sync app) reads every tag, as a department admin with it does. */
const managesTags = (access: Access): boolean =>
  access.scopes.some((scope) => scope.permissions.includes('tags:manage'));

/** Whether the caller may read this tag: an app only the tags of its range, unless it manages tags. */
const readsTag = (access: Access, id: number): boolean =>
  !access.app || managesTags(access) || access.app.tagIds.includes(id);
