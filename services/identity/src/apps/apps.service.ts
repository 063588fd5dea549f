import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AppRange } from '@qiwei/auth';
import { IDENTITY_APP_TOPIC } from '@qiwei/contracts';
import { Outbox } from '@qiwei/events';
import { asCorpId, isUniqueViolation, TransactionRunner, type CorpId } from '@qiwei/persistence';
import { ForbiddenException } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import type { Access } from '../access/access';
import { AccessService } from '../access/access.service';
import { recordAudit } from '../audit/audit-log';
import { lockCorpForWrite } from '../corps/corp-lock';
import { AccessTokensService, type IssuedAccessToken } from '../tokens/access-tokens.service';
import { appChanged, appDeleted, type AppChange } from './app-events';
import {
  AppCorpInvalidException,
  AppNameTakenException,
  AppNotFoundException,
  AppRangeInvalidException,
  AppSecretInvalidException,
} from './app.exceptions';
import { AppsRepository, type App, type AppPermission } from './apps.repository';

export interface CreateAppInput {
  name: string;
  description?: string;
  range: AppRange;
  permissions?: AppPermission[];
}

export interface UpdateAppInput {
  name?: string;
  description?: string;
  range?: AppRange;
  permissions?: AppPermission[];
}

/** An app with its secret: returned once, at creation and at rotation. */
export interface AppWithSecret {
  app: App;
  secret: string;
}

/** 256 random bits, base64url: 43 characters, the length of a WeCom secret. */
const newSecret = (): string => randomBytes(32).toString('base64url');

/**
 * Apps (自建应用): created by a super admin or a department admin with `apps:manage` (then
 * their range must lie inside that scope); each exchanges its secret for access tokens that
 * carry its visibility range. Every change is audited and announced on qiwei.identity.app.v1.
 */
@Injectable()
export class AppsService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly dataSource: DataSource,
    private readonly apps: AppsRepository,
    private readonly access: AccessService,
    private readonly tokens: AccessTokensService,
    private readonly outbox: Outbox,
  ) {}

  create(access: Access, input: CreateAppInput): Promise<AppWithSecret> {
    access.assertHasPermission('apps:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const range = normaliseRange(input.range);
      const permissions = [...new Set(input.permissions ?? [])].sort();
      await this.checkRange(em, access, range, permissions);
      if (await this.apps.nameTaken(em, corpId, input.name))
        throw new AppNameTakenException(input.name);
      const agentId = await this.apps.allocateAgentId(em, corpId);
      const secret = newSecret();
      await this.apps.insert(
        em,
        {
          corpId,
          agentId,
          name: input.name,
          description: input.description ?? '',
          range,
          permissions,
          createdBy: access.actorId,
        },
        secret,
        new Date(),
      );
      return { app: await this.announce(em, corpId, agentId, 'created'), secret };
    });
  }

  update(access: Access, agentId: number, input: UpdateAppInput): Promise<App> {
    access.assertHasPermission('apps:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const app = await this.manageable(em, access, agentId);
      const range = input.range ? normaliseRange(input.range) : app.range;
      const permissions = input.permissions
        ? [...new Set(input.permissions)].sort()
        : app.permissions;
      if (input.range || input.permissions) await this.checkRange(em, access, range, permissions);
      const name = input.name ?? app.name;
      if (await this.apps.nameTaken(em, corpId, name, agentId))
        throw new AppNameTakenException(name);
      try {
        await this.apps.update(em, corpId, agentId, {
          name,
          description: input.description ?? app.description,
          range,
          permissions,
        });
      } catch (error) {
        if (isUniqueViolation(error, 'apps_name_uq')) throw new AppNameTakenException(name);
        throw error;
      }
      return this.announce(em, corpId, agentId, 'updated', app);
    });
  }

  /** A new secret; the old one and every token issued with it stop working now. */
  rotateSecret(access: Access, agentId: number): Promise<AppWithSecret> {
    access.assertHasPermission('apps:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const before = await this.manageable(em, access, agentId);
      const secret = newSecret();
      await this.apps.replaceSecret(em, corpId, agentId, secret, new Date());
      return { app: await this.announce(em, corpId, agentId, 'secret_rotated', before), secret };
    });
  }

  remove(access: Access, agentId: number): Promise<void> {
    access.assertHasPermission('apps:manage');
    const corpId = access.corpId;
    return this.transactions.run(async (em) => {
      await lockCorpForWrite(em, corpId);
      const app = await this.manageable(em, access, agentId);
      await this.apps.delete(em, corpId, agentId);
      await recordAudit(em, corpId, {
        action: 'app.deleted',
        targetType: 'app',
        targetId: agentId,
        before: app,
      });
      await this.outbox.publish(em, IDENTITY_APP_TOPIC, appDeleted(corpId, agentId, new Date()));
    });
  }

  async get(access: Access, agentId: number): Promise<App> {
    access.assertHasPermission('apps:manage');
    return this.manageable(this.dataSource.manager, access, agentId);
  }

  /** The apps the caller may manage, by agentid. */
  async list(
    access: Access,
    afterId: number,
    limit: number,
  ): Promise<{ items: App[]; more: boolean }> {
    access.assertHasPermission('apps:manage');
    const em = this.dataSource.manager;
    const items: App[] = [];
    let cursor = afterId;
    // A department admin sees only apps whose range lies in their scope: filter page by page.
    for (;;) {
      const batch = await this.apps.list(em, access.corpId, cursor, limit + 1);
      for (const app of batch) {
        if (items.length > limit) break;
        if (await this.inScope(em, access, app.range)) items.push(app);
      }
      if (items.length > limit || batch.length < limit + 1) break;
      cursor = batch[batch.length - 1].agentId;
    }
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  /**
   * The app's token exchange (WeCom's gettoken): corp id + secret → an access token with the
   * app's range. Refusals are audited like failed sign-ins.
   */
  async exchange(corpId: string, secret: string): Promise<IssuedAccessToken & { app: App }> {
    const em = this.dataSource.manager;
    const [corp] = await em.query<unknown[]>('SELECT 1 FROM corps WHERE corp_id = $1', [corpId]);
    if (!corp) throw new AppCorpInvalidException();
    const app = await this.apps.findBySecret(em, corpId, secret);
    if (!app) {
      await recordAudit(em, asCorpId(corpId), {
        action: 'app.token_refused',
        targetType: 'app',
        targetId: '',
      });
      throw new AppSecretInvalidException();
    }
    const token = await this.tokens.issueForApp({
      corpId,
      agentId: app.agentId,
      range: app.range,
    });
    await recordAudit(em, asCorpId(corpId), {
      action: 'app.token_issued',
      targetType: 'app',
      targetId: app.agentId,
      actorId: `app:${app.agentId}`,
      actorType: 'app',
    });
    return { ...token, app };
  }

  /** The app, if the caller may manage it (otherwise 404, as if it did not exist). */
  private async manageable(em: EntityManager, access: Access, agentId: number): Promise<App> {
    const app = await this.apps.find(em, access.corpId, agentId);
    if (!app || !(await this.inScope(em, access, app.range)))
      throw new AppNotFoundException(agentId);
    return app;
  }

  private async inScope(em: EntityManager, access: Access, range: AppRange): Promise<boolean> {
    if (access.isSuperAdmin) return true;
    if (range.tagIds.length) return false;
    try {
      await this.access.assertTargetsInScope(em, access, 'apps:manage', range);
      return true;
    } catch (error) {
      if (error instanceof ForbiddenException) return false;
      throw error;
    }
  }

  /**
   * Everything the range names exists; a department admin's range lies in their scope, and they
   * grant the app only permissions they hold there themselves.
   */
  private async checkRange(
    em: EntityManager,
    access: Access,
    range: AppRange,
    permissions: AppPermission[],
  ): Promise<void> {
    const corpId = access.corpId;
    const [departments, members, tags] = await Promise.all([
      existing<number>(em, 'SELECT id AS v FROM departments', corpId, 'id', range.departmentIds),
      existing<string>(em, 'SELECT userid AS v FROM members', corpId, 'userid', range.userids),
      existing<number>(em, 'SELECT id AS v FROM tags', corpId, 'id', range.tagIds),
    ]);
    const unknown = {
      departmentIds: range.departmentIds.filter((id) => !departments.has(id)),
      userids: range.userids.filter((u) => !members.has(u)),
      tagIds: range.tagIds.filter((id) => !tags.has(id)),
    };
    if (unknown.departmentIds.length || unknown.userids.length || unknown.tagIds.length)
      throw new AppRangeInvalidException(unknown);
    if (!access.isSuperAdmin && range.tagIds.length) {
      throw new ForbiddenException(
        'Only a super admin puts tags in an app’s range (a tag can reach beyond your scope).',
        'OUTSIDE_ADMIN_SCOPE',
      );
    }
    for (const permission of ['apps:manage' as const, ...permissions]) {
      await this.access.assertTargetsInScope(em, access, permission, range);
    }
  }

  private async announce(
    em: EntityManager,
    corpId: CorpId,
    agentId: number,
    change: AppChange,
    before?: App,
  ): Promise<App> {
    const app = (await this.apps.find(em, corpId, agentId)) as App;
    await recordAudit(em, corpId, {
      action: `app.${change}`,
      targetType: 'app',
      targetId: agentId,
      before,
      after: app,
    });
    await this.outbox.publish(em, IDENTITY_APP_TOPIC, appChanged(change, app));
    return app;
  }
}

const normaliseRange = (range: AppRange): AppRange => ({
  departmentIds: [...new Set(range.departmentIds)].sort((a, b) => a - b),
  userids: [...new Set(range.userids)].sort(),
  tagIds: [...new Set(range.tagIds)].sort((a, b) => a - b),
});

async function existing<T extends string | number>(
  em: EntityManager,
  select: string,
  corpId: CorpId,
  column: string,
  values: T[],
): Promise<Set<T>> {
  if (!values.length) return new Set();
  const type = typeof values[0] === 'number' ? 'int[]' : 'text[]';
  const rows = await em.query<{ v: T }[]>(
    `${select} WHERE corp_id = $1 AND ${column} = ANY($2::${type})`,
    [corpId, values],
  );
  return new Set(rows.map((r) => r.v));
}
