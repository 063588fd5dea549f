import { Injectable } from '@nestjs/common';
import type { Principal } from '@qiwei/auth';
import { UnauthorizedException } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { Access, type Permission, type ResolvedAppRange, type ScopeGrant } from './access';

interface NonPublicDepartment {
  id: number;
  path: string;
  visibility: 'hidden' | 'restricted';
  visible_to_roles: string[];
  visible_to_departments: number[];
}

/**
 * Resolves what a caller may see and change (`Access`) from the database: a department admin's
 * scope, an app's range (tags expanded), and the hidden or restricted departments not open to
 * them. A few indexed queries per request; the common corp with no restricted departments and
 * a member caller costs one.
 */
@Injectable()
export class AccessService {
  constructor(private readonly dataSource: DataSource) {}

  async resolve(
    principal: Principal,
    em: EntityManager = this.dataSource.manager,
  ): Promise<Access> {
    const corpId = principal.corpId;
    const nonPublic = await em.query<NonPublicDepartment[]>(
      `SELECT id, path, visibility, visible_to_roles, visible_to_departments FROM departments
        WHERE corp_id = $1 AND visibility <> 'public'`,
      [corpId],
    );
    if (principal.app) {
      const app = await this.appRange(em, principal, principal.app.agentId);
      // An app sees a non-public department only when its range names it (or a part of it).
      const hidden = nonPublic
        .filter((d) => !app.paths.some((range) => range.startsWith(d.path)))
        .map((d) => d.path);
      // An app granted permissions administers the department subtrees of its range.
      const scopes: ScopeGrant[] = app.permissions.length
        ? app.departments.map((d) => ({ ...d, permissions: app.permissions }))
        : [];
      return new Access(principal, scopes, hidden, app);
    }
    const scopes = principal.roles.includes('department_admin')
      ? await this.scopes(em, principal)
      : [];
    if (!nonPublic.length || principal.roles.includes('super_admin')) {
      return new Access(principal, scopes, [], null);
    }
    const own = await em.query<{ path: string }[]>(
      `SELECT d.path FROM member_departments md
         JOIN departments d ON d.corp_id = md.corp_id AND d.id = md.department_id
        WHERE md.corp_id = $1 AND md.userid = $2`,
      [corpId, principal.userId],
    );
    const audienceIds = [...new Set(nonPublic.flatMap((d) => d.visible_to_departments))];
    const audiencePaths = new Map(
      (
        await em.query<{ id: number; path: string }[]>(
          'SELECT id, path FROM departments WHERE corp_id = $1 AND id = ANY($2::int[])',
          [corpId, audienceIds],
        )
      ).map((d) => [d.id, d.path]),
    );
    const memberOf = (path: string) => own.some((o) => o.path.startsWith(path));
    const hidden = nonPublic.filter((d) => {
      // Its own members and the admins of any part of it always see a department.
      if (memberOf(d.path)) return false;
      if (scopes.some((s) => s.path.startsWith(d.path) || d.path.startsWith(s.path))) return false;
      if (d.visibility === 'hidden') return true;
      const byRole = principal.roles.some((role) => d.visible_to_roles.includes(role));
      const byDepartment = d.visible_to_departments.some((id) => {
        const path = audiencePaths.get(id);
        return path !== undefined && memberOf(path);
      });
      return !byRole && !byDepartment;
    });
    return new Access(
      principal,
      scopes,
      hidden.map((d) => d.path),
      null,
    );
  }

  /**
   * For a department admin: throws 403 unless every department named lies in a subtree of their
   * scope holding `permission`, and every member named has a membership in one.
   */
  async assertTargetsInScope(
    em: EntityManager,
    access: Access,
    permission: Permission,
    targets: { userids: string[]; departmentIds: number[] },
  ): Promise<void> {
    if (access.isSuperAdmin) return;
    const prefixes = access.scopes
      .filter((s) => s.permissions.includes(permission))
      .map((s) => `${s.path}%`);
    const rows = await em.query<{ path: string | null }[]>(
      `SELECT d.path FROM departments d WHERE d.corp_id = $1 AND d.id = ANY($2::int[])
       UNION ALL
       SELECT min(d.path) FILTER (WHERE d.path LIKE ANY($4::text[])) FROM member_departments md
         JOIN departments d ON d.corp_id = md.corp_id AND d.id = md.department_id
        WHERE md.corp_id = $1 AND md.userid = ANY($3::text[]) GROUP BY md.userid`,
      [access.corpId, targets.departmentIds, targets.userids, prefixes],
    );
    // A member outside every scope yields a NULL path, which no scope contains.
    access.assertMayAdminister(
      permission,
      rows.map((r) => r.path ?? ''),
    );
  }

  private async scopes(em: EntityManager, principal: Principal): Promise<ScopeGrant[]> {
    const rows = await em.query<{ department_id: number; path: string; permissions: string[] }[]>(
      `SELECT s.department_id, d.path, s.permissions FROM admin_scopes s
         JOIN departments d ON d.corp_id = s.corp_id AND d.id = s.department_id
        WHERE s.corp_id = $1 AND s.userid = $2`,
      [principal.corpId, principal.userId],
    );
    return rows.map((r) => ({
      departmentId: r.department_id,
      path: r.path,
      permissions: r.permissions as Permission[],
    }));
  }

  private async appRange(
    em: EntityManager,
    principal: Principal,
    agentId: number,
  ): Promise<
    ResolvedAppRange & {
      permissions: Permission[];
      departments: { departmentId: number; path: string }[];
    }
  > {
    const [app] = await em.query<
      {
        range_departments: number[];
        range_userids: string[];
        range_tags: number[];
        permissions: Permission[];
      }[]
    >(
      `SELECT range_departments, range_userids, range_tags, permissions FROM apps
        WHERE corp_id = $1 AND agentid = $2`,
      [principal.corpId, agentId],
    );
    if (!app) throw new UnauthorizedException('This app no longer exists.', 'TOKEN_REVOKED');
    const tagIds = app.range_tags;
    const [paths, userids] = await Promise.all([
      em.query<{ id: number; path: string }[]>(
        `SELECT id, path FROM departments
          WHERE corp_id = $1 AND (id = ANY($2::int[]) OR id IN (
            SELECT department_id FROM tag_departments WHERE corp_id = $1 AND tag_id = ANY($3::int[])))`,
        [principal.corpId, app.range_departments, tagIds],
      ),
      em.query<{ userid: string }[]>(
        'SELECT DISTINCT userid FROM tag_members WHERE corp_id = $1 AND tag_id = ANY($2::int[])',
        [principal.corpId, tagIds],
      ),
    ]);
    return {
      agentId,
      permissions: app.permissions,
      departments: paths
        .filter((p) => app.range_departments.includes(p.id))
        .map((p) => ({ departmentId: p.id, path: p.path })),
      paths: paths.map((p) => p.path),
      userids: [...new Set([...app.range_userids, ...userids.map((u) => u.userid)])],
      tagIds,
    };
  }
}
