import type { Principal } from '@qiwei/auth';
import type { FieldError } from '@qiwei/platform';
import type { EntityManager } from 'typeorm';
import {
  AnnouncementOutsideScopeException,
  AnnouncementPermissionRequiredException,
  AnnouncementRoleRequiredException,
  AnnouncementTargetsInvalidException,
} from './announcement.exceptions';
import type { AnnouncementTargets, StoredAnnouncement } from './announcements.repository';

/** The permission a department admin needs on a subtree to announce to it. */
export const PUBLISH_PERMISSION = 'announcements:publish';

/**
 * Who may announce to whom: a super admin to anyone in the corp; a department admin to the
 * department subtrees of their scope that carry `announcements:publish` (from identity's member
 * events). Apps and plain members may not announce.
 */
export interface PublishingRights {
  /** A super admin: no bound. */
  unrestricted: boolean;
  /** Department paths (`/1/5/`) a department admin may announce to. */
  scopePaths: string[];
  /** The top departments of those subtrees. */
  scopeDepartmentIds: number[];
}

export async function publishingRights(
  em: EntityManager,
  caller: Principal,
): Promise<PublishingRights> {
  if (caller.app) throw new AnnouncementRoleRequiredException();
  if (caller.roles.includes('super_admin'))
    return { unrestricted: true, scopePaths: [], scopeDepartmentIds: [] };
  if (!caller.roles.includes('department_admin')) throw new AnnouncementRoleRequiredException();
  const rows = await em.query<{ id: number; path: string }[]>(
    `SELECT d.id, d.path FROM directory_admin_scopes s
       JOIN directory_departments d ON d.corp_id = s.corp_id AND d.id = s.department_id
      WHERE s.corp_id = $1 AND s.userid = $2 AND $3 = ANY(s.permissions)
      ORDER BY d.path`,
    [caller.corpId, caller.userId, PUBLISH_PERMISSION],
  );
  if (!rows.length) throw new AnnouncementPermissionRequiredException();
  return {
    unrestricted: false,
    scopePaths: rows.map((r) => r.path),
    scopeDepartmentIds: rows.map((r) => r.id),
  };
}

/** The publisher (while they may still publish) and super admins manage an announcement. */
export async function mayManage(
  em: EntityManager,
  caller: Principal,
  a: StoredAnnouncement,
): Promise<boolean> {
  if (caller.app) return false;
  if (caller.roles.includes('super_admin')) return true;
  if (a.publisher !== caller.userId) return false;
  try {
    await publishingRights(em, caller);
    return true;
  } catch {
    return false;
  }
}

const within = (paths: string[], scope: string[]) =>
  paths.some((p) => scope.some((s) => p.startsWith(s)));

/**
 * Checks every target exists (departments, tags, active members) and, for a department admin,
 * lies inside their scope: departments in it, members with a department in it, never "all".
 * Tags may name anyone; their members outside the scope are not reached (recipients are bounded
 * by the scope when published).
 */
export async function checkTargets(
  em: EntityManager,
  corpId: string,
  targets: AnnouncementTargets,
  rights: PublishingRights,
): Promise<void> {
  if (targets.all && !rights.unrestricted)
    throw new AnnouncementOutsideScopeException(
      'Only super admins announce to everyone; name departments of your scope instead.',
    );
  // One after the other: `em` may be a transaction's single connection.
  const departments = await em.query<{ id: number; path: string }[]>(
    'SELECT id, path FROM directory_departments WHERE corp_id = $1 AND id = ANY($2::int[])',
    [corpId, targets.departmentIds],
  );
  const tags = await em.query<{ id: number }[]>(
    'SELECT id FROM directory_tags WHERE corp_id = $1 AND id = ANY($2::int[])',
    [corpId, targets.tagIds],
  );
  const members = await em.query<{ userid: string; paths: string[] }[]>(
    `SELECT m.userid, ARRAY(SELECT d.path FROM directory_departments d
                             WHERE d.corp_id = m.corp_id AND d.id = ANY(m.department_ids)) AS paths
       FROM directory_members m
      WHERE m.corp_id = $1 AND m.userid = ANY($2::text[]) AND m.status = 'active'`,
    [corpId, targets.userids],
  );
  const errors: FieldError[] = [];
  const missing = <T>(field: string, asked: T[], found: Set<T>, what: string) => {
    const absent = [...new Set(asked)].filter((x) => !found.has(x));
    if (absent.length)
      errors.push({
        field: `targets.${field}`,
        code: 'TARGET_UNKNOWN',
        message: `${what}: ${absent.join(', ')}`,
      });
  };
  missing(
    'departmentIds',
    targets.departmentIds,
    new Set(departments.map((d) => d.id)),
    'No such department',
  );
  missing('tagIds', targets.tagIds, new Set(tags.map((t) => t.id)), 'No such tag');
  missing(
    'userids',
    targets.userids,
    new Set(members.map((m) => m.userid)),
    'No such active member',
  );
  if (errors.length) throw new AnnouncementTargetsInvalidException(errors);
  if (rights.unrestricted) return;
  const outside = [
    ...departments
      .filter((d) => !within([d.path], rights.scopePaths))
      .map((d) => `department ${d.id}`),
    ...members.filter((m) => !within(m.paths, rights.scopePaths)).map((m) => `member ${m.userid}`),
  ];
  if (outside.length)
    throw new AnnouncementOutsideScopeException(
      `Outside your admin scope (needs \`${PUBLISH_PERMISSION}\`): ${outside.join(', ')}.`,
    );
}
