import { DataSource } from 'typeorm';
import type { CreatedCorp, IdentityTestApp } from './identity-test-app';

/** A WeCom answer: always HTTP 200, `errcode` 0 on success. */
export interface WecomBody {
  errcode: number;
  errmsg: string;
  [field: string]: unknown;
}

/** Calls /cgi-bin the way a WeCom client does: `?access_token=` and JSON bodies. */
export function wecomClient(identity: IdentityTestApp, token: string) {
  return {
    get: async (path: string, query: Record<string, string | number> = {}) =>
      (
        await identity
          .http()
          .get(`/cgi-bin/${path}`)
          .query({ access_token: token, ...query })
          .expect(200)
      ).body as WecomBody,
    post: async (path: string, body: object) =>
      (
        await identity
          .http()
          .post(`/cgi-bin/${path}`)
          .query({ access_token: token })
          .send(body)
          .expect(200)
      ).body as WecomBody,
  };
}

export type WecomClient = ReturnType<typeof wecomClient>;

/** An app of the corp (created by its super admin) and its token from /cgi-bin/gettoken. */
export async function wecomApp(
  identity: IdentityTestApp,
  corp: CreatedCorp,
  name: string,
  range: { departmentIds?: number[]; userids?: string[]; tagIds?: number[] },
  permissions: string[] = [],
): Promise<{ agentid: number; secret: string; token: string; client: WecomClient }> {
  const app = await identity
    .http()
    .post('/v1/apps')
    .set('authorization', `Bearer ${corp.token}`)
    .send({
      name,
      range: { departmentIds: [], userids: [], tagIds: [], ...range },
      permissions,
    })
    .expect(201);
  const issued = await identity
    .http()
    .get('/cgi-bin/gettoken')
    .query({ corpid: corp.corpId, corpsecret: app.body.secret })
    .expect(200);
  const token = issued.body.access_token as string;
  return {
    agentid: app.body.agentid,
    secret: app.body.secret,
    token,
    client: wecomClient(identity, token),
  };
}

/** How many rows of each directory table, audit entry and event the corp has: to prove "no change". */
export async function directoryFootprint(identity: IdentityTestApp, corpId: string) {
  const db = identity.app.get(DataSource);
  const [row] = await db.query<Record<string, number>[]>(
    `SELECT (SELECT count(*)::int FROM departments WHERE corp_id = $1) AS departments,
            (SELECT count(*)::int FROM members WHERE corp_id = $1) AS members,
            (SELECT count(*)::int FROM member_departments WHERE corp_id = $1) AS memberships,
            (SELECT count(*)::int FROM tags WHERE corp_id = $1) AS tags,
            (SELECT count(*)::int FROM tag_members WHERE corp_id = $1) AS tag_members,
            (SELECT count(*)::int FROM tag_departments WHERE corp_id = $1) AS tag_departments,
            (SELECT max(updated_at) FROM members WHERE corp_id = $1)::text AS members_changed,
            (SELECT max(updated_at) FROM departments WHERE corp_id = $1)::text AS departments_changed,
            (SELECT max(updated_at) FROM tags WHERE corp_id = $1)::text AS tags_changed,
            (SELECT count(*)::int FROM audit_log WHERE corp_id = $1 AND action NOT LIKE 'app.token%') AS audit,
            (SELECT count(*)::int FROM event_outbox WHERE partition_key = $1) AS events`,
    [corpId],
  );
  return row;
}

/** A fresh corp with a contacts-sync app (通讯录同步): the whole tree, contacts:edit and tags:manage. */
export async function corpWithSyncApp(identity: IdentityTestApp) {
  const corp = await identity.createCorp();
  const app = await wecomApp(identity, corp, '通讯录同步', { departmentIds: [1] }, [
    'contacts:edit',
    'tags:manage',
  ]);
  return { corp, app };
}
