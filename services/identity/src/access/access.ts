import type { Principal, Role } from '@qiwei/auth';
import type { CorpId } from '@qiwei/persistence';
import { ForbiddenException } from '@qiwei/platform';

/**
 * What a department admin may do inside the department subtrees of their scope.
 * `announcements:publish` is enforced by messaging (announcements to those subtrees).
 */
export const PERMISSIONS = [
  'contacts:edit',
  'tags:manage',
  'apps:manage',
  'data:export',
  'announcements:publish',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** One department subtree of a department admin's scope. */
export interface ScopeGrant {
  departmentId: number;
  /** The department's materialised path (`/1/5/`): the subtree is every path starting with it. */
  path: string;
  permissions: Permission[];
}

/** The app's visibility range, resolved to department paths and userids (tags expanded). */
export interface ResolvedAppRange {
  agentId: number;
  paths: string[];
  userids: string[];
  tagIds: number[];
}

/** A SQL condition with its named parameters (TypeORM query-builder style). */
export interface SqlCondition {
  sql: string;
  params: Record<string, unknown>;
}

const likePrefixes = (paths: string[]): string[] => paths.map((p) => `${p}%`);

/**
 * What the caller of one request may see and change in their corp: the roles and admin scope of
 * a member, or the range of an app, and the department subtrees hidden from them. Resolved once
 * per request by `AccessService`; every directory read and write goes through it.
 */
export class Access {
  constructor(
    readonly principal: Principal,
    readonly scopes: ScopeGrant[],
    /** Subtrees the caller cannot see (hidden or restricted departments not open to them). */
    readonly hiddenPaths: string[],
    readonly app: ResolvedAppRange | null,
  ) {}

  get corpId(): CorpId {
    return this.principal.corpId;
  }

  get actorId(): string {
    return this.principal.userId;
  }

  hasRole(role: Role): boolean {
    return this.principal.roles.includes(role);
  }

  get isSuperAdmin(): boolean {
    return this.hasRole('super_admin');
  }

  /** Whether the caller may see the department with this path. */
  canSeeDepartment(path: string): boolean {
    if (this.hiddenPaths.some((hidden) => path.startsWith(hidden))) return false;
    return !this.app || this.app.paths.some((range) => path.startsWith(range));
  }

  /** Whether a member with memberships at these paths (and this userid) is visible. */
  canSeeMember(userid: string, departmentPaths: string[]): boolean {
    if (!this.hiddenPaths.length && !this.app) return true;
    const visible = departmentPaths.filter(
      (path) => !this.hiddenPaths.some((hidden) => path.startsWith(hidden)),
    );
    if (!visible.length) return false;
    if (!this.app) return true;
    return (
      this.app.userids.includes(userid) ||
      visible.some((path) => this.app?.paths.some((range) => path.startsWith(range)))
    );
  }

  /**
   * A department admin, or an app granted permissions: both act only inside their `scopes`.
   */
  get isScopedAdmin(): boolean {
    return this.app ? this.scopes.length > 0 : this.hasRole('department_admin');
  }

  /** Whether every department path lies inside the caller's scope with `permission`. */
  mayAdminister(permission: Permission, paths: string[]): boolean {
    if (this.isSuperAdmin) return true;
    if (!this.isScopedAdmin) return false;
    return paths.every((path) =>
      this.scopes.some(
        (scope) => scope.permissions.includes(permission) && path.startsWith(scope.path),
      ),
    );
  }

  /** Throws 403 unless `mayAdminister(permission, paths)`. */
  assertMayAdminister(permission: Permission, paths: string[]): void {
    if (this.mayAdminister(permission, paths)) return;
    this.assertIsAdmin(permission);
    throw new ForbiddenException(
      `This is outside your admin scope (needs \`${permission}\` on every department involved).`,
      'OUTSIDE_ADMIN_SCOPE',
    );
  }

  /** Throws 403 unless the caller is a super admin or holds `permission` on some subtree. */
  assertHasPermission(permission: Permission): void {
    const held =
      this.isSuperAdmin ||
      (this.isScopedAdmin && this.scopes.some((scope) => scope.permissions.includes(permission)));
    if (held) return;
    this.assertIsAdmin(permission);
    throw new ForbiddenException(
      `Your admin scope does not include \`${permission}\`.`,
      'PERMISSION_REQUIRED',
    );
  }

  private assertIsAdmin(permission: Permission): void {
    if (!this.isSuperAdmin && !this.isScopedAdmin) {
      throw new ForbiddenException(
        `This needs one of the roles: super_admin, department_admin (with \`${permission}\`).`,
        'ROLE_REQUIRED',
      );
    }
  }

  /** Whether `path` is the root of one of the caller's scopes (a scope cannot move or delete its own root). */
  isScopeRoot(path: string): boolean {
    return !this.isSuperAdmin && this.scopes.some((scope) => scope.path === path);
  }

  /** Condition on a `departments` alias: the caller may see that department. */
  departmentVisibleSql(d: string): SqlCondition | null {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    if (this.hiddenPaths.length) {
      parts.push(`NOT (${d}.path LIKE ANY(:visHidden::text[]))`);
      params.visHidden = likePrefixes(this.hiddenPaths);
    }
    if (this.app) {
      parts.push(`${d}.path LIKE ANY(:visRange::text[])`);
      params.visRange = likePrefixes(this.app.paths);
    }
    return parts.length ? { sql: parts.join(' AND '), params } : null;
  }

  /** Condition on a `members` alias: the caller may see that member. */
  memberVisibleSql(m: string): SqlCondition | null {
    if (!this.hiddenPaths.length && !this.app) return null;
    const parts = [`vmd.corp_id = ${m}.corp_id`, `vmd.userid = ${m}.userid`];
    const params: Record<string, unknown> = {};
    if (this.hiddenPaths.length) {
      parts.push('NOT (vd.path LIKE ANY(:visHidden::text[]))');
      params.visHidden = likePrefixes(this.hiddenPaths);
    }
    if (this.app) {
      parts.push(`(${m}.userid = ANY(:visUserids::text[]) OR vd.path LIKE ANY(:visRange::text[]))`);
      params.visUserids = this.app.userids;
      params.visRange = likePrefixes(this.app.paths);
    }
    return {
      sql: `EXISTS (SELECT 1 FROM member_departments vmd JOIN departments vd
                      ON vd.corp_id = vmd.corp_id AND vd.id = vmd.department_id
                   WHERE ${parts.join(' AND ')})`,
      params,
    };
  }
}
