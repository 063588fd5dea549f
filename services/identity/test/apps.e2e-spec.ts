import { IDENTITY_APP_TOPIC } from '@qiwei/contracts';
import type { Role } from '@qiwei/auth';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

/** Apps (自建应用): secrets shown once, token exchange, ranges enforced on reads, rotation. */
describe('identity: apps', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  let sales: number;
  let finance: number;
  let tagId: number;

  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  const call = (token: string) => {
    const auth = (req: Test) => req.set('authorization', `Bearer ${token}`);
    return {
      get: (path: string) => auth(identity.http().get(path)),
      post: (path: string, body: object = {}) => auth(identity.http().post(path).send(body)),
      patch: (path: string, body: object) => auth(identity.http().patch(path).send(body)),
      put: (path: string, body: object) => auth(identity.http().put(path).send(body)),
      delete: (path: string) => auth(identity.http().delete(path)),
    };
  };
  const admin = () => call(corp.token);
  const exchange = (secret: string, corpId = corp.corpId) =>
    identity.http().post('/v1/apps/token').send({ corpId, secret });
  const memberToken = async (userid: string, roles: Role[]) =>
    (
      await identity.app
        .get(AccessTokensService)
        .issue({ corpId: corp.corpId, userId: userid, roles })
    ).accessToken;
  const createApp = async (range: object, name = '审批助手') =>
    (await admin().post('/v1/apps', { name, range }).expect(201)).body as {
      agentid: number;
      secret: string;
    };

  beforeEach(async () => {
    corp = await identity.createCorp();
    sales = (await admin().post('/v1/departments', { name: '销售部', parentId: 1 }).expect(201))
      .body.id;
    finance = (await admin().post('/v1/departments', { name: '财务部', parentId: 1 }).expect(201))
      .body.id;
    for (const [userid, department] of [
      ['seller', sales],
      ['accountant', finance],
      ['cfo', finance],
    ] as const) {
      await admin()
        .post('/v1/members', { userid, name: userid, departments: [{ id: department }] })
        .expect(201);
    }
    tagId = (await admin().post('/v1/tags', { name: '财务骨干' }).expect(201)).body.id;
    await admin()
      .post(`/v1/tags/${tagId}/members`, { userids: ['cfo'] })
      .expect(200);
  });

  it('creates an app whose secret is shown once and stored only as a hash, and announces it', async () => {
    const app = await createApp({ departmentIds: [sales], userids: [], tagIds: [tagId] });
    expect(app).toMatchObject({
      agentid: 1000002,
      name: '审批助手',
      range: { departmentIds: [sales], userids: [], tagIds: [tagId] },
      createdBy: 'admin',
    });
    expect(app.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const read = await admin().get(`/v1/apps/${app.agentid}`).expect(200);
    expect(read.body.secret).toBeUndefined();
    expect((await admin().get('/v1/apps').expect(200)).body.items).toHaveLength(1);
    const db = identity.app.get(DataSource);
    for (const table of ['apps', 'audit_log', 'event_outbox', 'idempotency_keys']) {
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM ${table} t WHERE t::text LIKE '%' || $1 || '%'`,
        [app.secret],
      );
      expect([table, rows[0].n]).toEqual([table, 0]);
    }
    const events = await corpEventsOn(identity.brokers, IDENTITY_APP_TOPIC.name, corp.corpId, [
      'qiwei.identity.app.created.v1',
    ]);
    expect(JSON.parse(events[0].value).app).toMatchObject({
      agentid: 1000002,
      range: { departmentIds: [sales], tagIds: [tagId] },
    });
    const audit = await db.query(
      `SELECT action FROM audit_log WHERE corp_id = $1 AND target_type = 'app'`,
      [corp.corpId],
    );
    expect(audit).toEqual([{ action: 'app.created' }]);
  });

  it('exchanges the secret for a token that reads only inside the app’s range', async () => {
    const app = await createApp({ departmentIds: [sales], userids: [], tagIds: [tagId] });
    const issued = await exchange(app.secret).expect(200);
    expect(issued.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 7200, agentid: 1000002 });
    const asApp = call(issued.body.accessToken);
    await asApp.get(`/v1/departments/${sales}`).expect(200);
    await asApp.get(`/v1/departments/${finance}`).expect(404);
    await asApp.get('/v1/departments/1').expect(404);
    await asApp.get('/v1/members/seller').expect(200);
    await asApp.get('/v1/members/cfo').expect(200); // through the tag
    await asApp.get('/v1/members/accountant').expect(404);
    const members = await asApp.get(`/v1/departments/${sales}/members?recursive=true`).expect(200);
    expect(members.body.items.map((m: { userid: string }) => m.userid)).toEqual(['seller']);
    const tags = await asApp.get('/v1/tags').expect(200);
    expect(tags.body.items.map((t: { id: number }) => t.id)).toEqual([tagId]);
    // An app administers nothing.
    const refused = await asApp.post('/v1/departments', { name: 'x', parentId: sales }).expect(403);
    expect(refused.body.code).toBe('ROLE_REQUIRED');
    await asApp.get('/v1/apps').expect(403);
    await asApp.get('/v1/audit-logs').expect(403);
    // A narrower range applies at once, to tokens already issued.
    await admin()
      .patch(`/v1/apps/${app.agentid}`, {
        range: { departmentIds: [], userids: ['seller'], tagIds: [] },
      })
      .expect(200);
    await asApp.get('/v1/members/cfo').expect(404);
    await asApp.get('/v1/members/seller').expect(200);
    const audit = await identity.app
      .get(DataSource)
      .query(
        `SELECT actor_type, actor_id FROM audit_log WHERE corp_id = $1 AND action = 'app.token_issued'`,
        [corp.corpId],
      );
    expect(audit).toEqual([{ actor_type: 'app', actor_id: 'app:1000002' }]);
  });

  it('rotating the secret or deleting the app ends its tokens at once', async () => {
    const app = await createApp({ departmentIds: [sales], userids: [], tagIds: [] });
    const oldToken = (await exchange(app.secret).expect(200)).body.accessToken;
    const rotated = await admin().post(`/v1/apps/${app.agentid}/secret`).expect(200);
    expect(rotated.body.secret).not.toBe(app.secret);
    expect((await exchange(app.secret).expect(401)).body.code).toBe('APP_SECRET_INVALID');
    expect((await call(oldToken).get(`/v1/departments/${sales}`).expect(401)).body.code).toBe(
      'TOKEN_REVOKED',
    );
    const newToken = (await exchange(rotated.body.secret).expect(200)).body.accessToken;
    await call(newToken).get(`/v1/departments/${sales}`).expect(200);
    await admin().delete(`/v1/apps/${app.agentid}`).expect(204);
    expect((await call(newToken).get(`/v1/departments/${sales}`).expect(401)).body.code).toBe(
      'TOKEN_REVOKED',
    );
    await exchange(rotated.body.secret).expect(401);
    await admin().get(`/v1/apps/${app.agentid}`).expect(404);
    await corpEventsOn(identity.brokers, IDENTITY_APP_TOPIC.name, corp.corpId, [
      'qiwei.identity.app.created.v1',
      'qiwei.identity.app.secret_rotated.v1',
      'qiwei.identity.app.deleted.v1',
    ]);
  });

  it('refuses bad credentials and bad input, and changes nothing', async () => {
    const app = await createApp({ departmentIds: [sales], userids: [], tagIds: [] });
    expect((await exchange(app.secret, 'ww0000000000000000').expect(401)).body.code).toBe(
      'CORP_ID_INVALID',
    );
    expect((await exchange('x'.repeat(43)).expect(401)).body.code).toBe('APP_SECRET_INVALID');
    await identity.http().post('/v1/apps/token').send({ corpId: corp.corpId }).expect(400);
    await exchange('x'.repeat(300)).expect(400);
    const other = await identity.createCorp();
    expect((await exchange(app.secret, other.corpId).expect(401)).body.code).toBe(
      'APP_SECRET_INVALID',
    );
    const range = { departmentIds: [], userids: [], tagIds: [] };
    const cases: [object, number, string][] = [
      [{ name: '', range }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x'.repeat(65), range }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x' }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', range: { ...range, departmentIds: ['1'] } }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', range, secret: 'mine' }, 400, 'VALIDATION_FAILED'],
      [
        { name: 'x', range: { ...range, departmentIds: [9999], userids: ['ghost'] } },
        422,
        'APP_RANGE_INVALID',
      ],
      [{ name: '审批助手', range }, 409, 'APP_NAME_TAKEN'],
    ];
    for (const [body, status, code] of cases) {
      const response = await admin().post('/v1/apps', body);
      expect([response.status, response.body.code]).toEqual([status, code]);
    }
    // Another corp's admin cannot see or touch the app.
    await call(other.token).get(`/v1/apps/${app.agentid}`).expect(404);
    await call(other.token).post(`/v1/apps/${app.agentid}/secret`).expect(404);
    await call(other.token).delete(`/v1/apps/${app.agentid}`).expect(404);
    // Ordinary members cannot manage apps.
    const seller = call(await memberToken('seller', ['member']));
    expect((await seller.post('/v1/apps', { name: 'y', range }).expect(403)).body.code).toBe(
      'ROLE_REQUIRED',
    );
    await exchange(app.secret).expect(200);
    const apps = await admin().get('/v1/apps').expect(200);
    expect(apps.body.items).toHaveLength(1);
  });

  it('lets a department admin with apps:manage manage apps only inside the scope', async () => {
    await admin()
      .post('/v1/members', {
        userid: 'salesadmin',
        name: 'salesadmin',
        departments: [{ id: sales }],
      })
      .expect(201);
    await admin()
      .put('/v1/members/salesadmin/roles', {
        roles: ['department_admin'],
        scopes: [{ departmentId: sales, permissions: ['apps:manage'] }],
      })
      .expect(200);
    const salesAdmin = call(await memberToken('salesadmin', ['member', 'department_admin']));
    const corpWide = await createApp({ departmentIds: [1], userids: [], tagIds: [] }, '全员通知');
    const mine = await salesAdmin
      .post('/v1/apps', {
        name: '销售助手',
        range: { departmentIds: [sales], userids: ['seller'], tagIds: [] },
      })
      .expect(201);
    const outside: object[] = [
      { departmentIds: [finance], userids: [], tagIds: [] },
      { departmentIds: [], userids: ['accountant'], tagIds: [] },
      { departmentIds: [], userids: [], tagIds: [tagId] },
    ];
    for (const range of outside) {
      const refused = await salesAdmin.post('/v1/apps', { name: '越权', range }).expect(403);
      expect(refused.body.code).toBe('OUTSIDE_ADMIN_SCOPE');
    }
    const listed = await salesAdmin.get('/v1/apps').expect(200);
    expect(listed.body.items.map((a: { agentid: number }) => a.agentid)).toEqual([
      mine.body.agentid,
    ]);
    await salesAdmin.get(`/v1/apps/${corpWide.agentid}`).expect(404);
    await salesAdmin.post(`/v1/apps/${corpWide.agentid}/secret`).expect(404);
    await salesAdmin
      .patch(`/v1/apps/${mine.body.agentid}`, {
        range: { departmentIds: [1], userids: [], tagIds: [] },
      })
      .expect(403);
    await salesAdmin.post(`/v1/apps/${mine.body.agentid}/secret`).expect(200);
  });

  it('a contacts-sync app (contacts:edit) changes the directory only inside its range', async () => {
    const sync = (
      await admin()
        .post('/v1/apps', {
          name: '通讯录同步',
          range: { departmentIds: [sales], userids: [], tagIds: [] },
          permissions: ['contacts:edit'],
        })
        .expect(201)
    ).body;
    expect(sync.permissions).toEqual(['contacts:edit']);
    const asSync = call((await exchange(sync.secret).expect(200)).body.accessToken);
    const east = await asSync
      .post('/v1/departments', { name: '华东区', parentId: sales })
      .expect(201);
    await asSync
      .post('/v1/members', { userid: 'newhire', name: '新人', departments: [{ id: east.body.id }] })
      .expect(201);
    await asSync.patch('/v1/members/seller', { position: '主管' }).expect(200);
    const outside = await asSync
      .post('/v1/members', { userid: 'spy', name: 'spy', departments: [{ id: finance }] })
      .expect(422);
    expect(outside.body.code).toBe('MEMBER_DEPARTMENT_NOT_FOUND');
    const root = await asSync.post('/v1/departments', { name: 'x', parentId: 1 }).expect(422);
    expect(root.body.code).toBe('PARENT_DEPARTMENT_NOT_FOUND');
    await asSync.get('/v1/members/accountant').expect(404);
    // Without a permission an app only reads.
    const reader = await createApp({ departmentIds: [sales], userids: [], tagIds: [] }, '只读');
    const asReader = call((await exchange(reader.secret).expect(200)).body.accessToken);
    const refused = await asReader.patch('/v1/members/seller', { position: 'x' }).expect(403);
    expect(refused.body.code).toBe('ROLE_REQUIRED');
    const audit = await identity.app
      .get(DataSource)
      .query(
        `SELECT actor_type, actor_id FROM audit_log WHERE corp_id = $1 AND action = 'member.created' AND target_id = 'newhire'`,
        [corp.corpId],
      );
    expect(audit).toEqual([{ actor_type: 'app', actor_id: `app:${sync.agentid}` }]);
  });
});
