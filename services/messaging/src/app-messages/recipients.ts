import type { AppRange } from '@qiwei/auth';
import type { EntityManager } from 'typeorm';

export interface Targets {
  touser: string[];
  toparty: number[];
  totag: number[];
  /** `@all`: everyone in the app's range. */
  all: boolean;
}

export interface Resolved {
  recipients: string[];
  invaliduser: string[];
  invalidparty: number[];
  invalidtag: number[];
}

/**
 * Whom an app message reaches: the users, the members of the departments' subtrees and of the
 * tags (their members and departments) — or everyone with `@all` — limited to active members
 * inside the app's range (from its token), all from messaging's projection of identity. Names
 * that are unknown, inactive or outside the range come back as invalid, the WeCom way.
 */
export async function resolveRecipients(
  em: EntityManager,
  corpId: string,
  range: AppRange,
  targets: Targets,
): Promise<Resolved> {
  const rows = await em.query<{ userid: string }[]>(
    `WITH range_paths AS (
       SELECT path FROM directory_departments
        WHERE corp_id = $1 AND (id = ANY($2::int[]) OR id IN (
          SELECT unnest(department_ids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($4::int[])))
     ), range_users AS (
       SELECT unnest($3::text[]) AS userid
       UNION SELECT unnest(userids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($4::int[])
     ), target_paths AS (
       SELECT path FROM directory_departments
        WHERE corp_id = $1 AND (id = ANY($6::int[]) OR id IN (
          SELECT unnest(department_ids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($7::int[])))
     ), target_users AS (
       SELECT unnest($5::text[]) AS userid
       UNION SELECT unnest(userids) FROM directory_tags WHERE corp_id = $1 AND id = ANY($7::int[])
     )
     SELECT m.userid FROM directory_members m
      WHERE m.corp_id = $1 AND m.status = 'active'
        AND ($8::boolean
             OR m.userid IN (SELECT userid FROM target_users)
             OR EXISTS (SELECT 1 FROM directory_departments d JOIN target_paths t ON d.path LIKE t.path || '%'
                         WHERE d.corp_id = m.corp_id AND d.id = ANY(m.department_ids)))
        AND (m.userid IN (SELECT userid FROM range_users)
             OR EXISTS (SELECT 1 FROM directory_departments d JOIN range_paths r ON d.path LIKE r.path || '%'
                         WHERE d.corp_id = m.corp_id AND d.id = ANY(m.department_ids)))
      ORDER BY m.userid`,
    [
      corpId,
      range.departmentIds,
      range.userids,
      range.tagIds,
      targets.touser,
      targets.toparty,
      targets.totag,
      targets.all,
    ],
  );
  const recipients = rows.map((r) => r.userid);
  const reached = new Set(recipients);
  // A department is valid when it exists inside the range; a tag when it exists. One statement
  // on the caller's transaction (its connection runs one query at a time).
  const [valid] = await em.query<{ parties: number[]; tags: number[] }[]>(
    `SELECT ARRAY(SELECT d.id FROM directory_departments d
                   WHERE d.corp_id = $1 AND d.id = ANY($2::int[])
                     AND EXISTS (SELECT 1 FROM directory_departments r
                                  WHERE r.corp_id = d.corp_id AND r.id = ANY($3::int[])
                                    AND d.path LIKE r.path || '%')) AS parties,
            ARRAY(SELECT t.id FROM directory_tags t
                   WHERE t.corp_id = $1 AND t.id = ANY($4::int[])) AS tags`,
    [corpId, targets.toparty, range.departmentIds, targets.totag],
  );
  const validParties = new Set(valid.parties);
  const validTags = new Set(valid.tags);
  return {
    recipients,
    invaliduser: [...new Set(targets.touser)].filter((u) => !reached.has(u)),
    invalidparty: [...new Set(targets.toparty)].filter((p) => !validParties.has(p)),
    invalidtag: [...new Set(targets.totag)].filter((t) => !validTags.has(t)),
  };
}
