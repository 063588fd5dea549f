import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@qiwei/auth';
import { SignJWT } from 'jose';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { SigningKeysService } from '../src/tokens/signing-keys.service';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';
import {
  corpWithSyncApp,
  directoryFootprint,
  wecomApp,
  wecomClient,
  type WecomBody,
  type WecomClient,
} from './wecom-client';

/** /cgi-bin refusals: every one an HTTP 200 with WeCom's errcode, and none of them changes anything. */
describe('identity: WeCom-compatible API refusals', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  let sync: WecomClient;
  let syncApp: { agentid: number; secret: string; token: string };
  let sales: number;
  let finance: number;

  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  beforeEach(async () => {
    const created = await corpWithSyncApp(identity);
    corp = created.corp;
    sync = created.app.client;
    syncApp = created.app;
    sales = (await sync.post('department/create', { name: '销售部', parentid: 1 })).id as number;
    finance = (await sync.post('department/create', { name: '财务部', parentid: 1 })).id as number;
    await sync.post('user/create', {
      userid: 'seller',
      name: '销售',
      department: [sales],
      mobile: '13900000001',
    });
    await sync.post('user/create', { userid: 'accountant', name: '会计', department: [finance] });
    await sync.post('tag/create', { tagname: '财务', tagid: 5 });
    await sync.post('tag/addtagusers', { tagid: 5, userlist: ['accountant'] });
  });

  /** Runs the calls and checks each errcode, then that the corp's directory did not change. */
  async function expectRefusals(calls: [string, () => Promise<WecomBody>, number][]) {
    const before = await directoryFootprint(identity, corp.corpId);
    for (const [name, call, errcode] of calls) {
      const body = await call();
      expect([name, body.errcode]).toEqual([name, errcode]);
      expect(typeof body.errmsg).toBe('string');
    }
    expect(await directoryFootprint(identity, corp.corpId)).toEqual(before);
  }

  it('answers a missing, forged, member, expired or revoked access_token with 41001 / 40014 / 42001', async () => {
    const keys = identity.app.get(SigningKeysService);
    const { kid, privateKey } = keys.activeKey();
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({
      corp_id: corp.corpId,
      roles: [],
      agentid: syncApp.agentid,
      range: { departmentIds: [1], userids: [], tagIds: [] },
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(`app:${syncApp.agentid}`)
      .setJti(randomUUID())
      .setIssuedAt(now - 7300)
      .setExpirationTime(now - 100)
      .sign(privateKey);
    const member = await identity.app
      .get(AccessTokensService)
      .issue({ corpId: corp.corpId, userId: 'admin', roles: ['super_admin'] });
    const [header, payload] = syncApp.token.split('.');
    const forgedSignature = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;
    const create = { name: '新部门', parentid: 1 };
    await expectRefusals([
      [
        'no token',
        async () =>
          (await identity.http().post('/cgi-bin/department/create').send(create).expect(200)).body,
        41001,
      ],
      ['empty token', () => wecomClient(identity, '').post('department/create', create), 41001],
      [
        'garbage',
        () => wecomClient(identity, 'not-a-jwt').post('department/create', create),
        40014,
      ],
      [
        'forged signature',
        () => wecomClient(identity, forgedSignature).post('department/create', create),
        40014,
      ],
      [
        'member token',
        () => wecomClient(identity, member.accessToken).post('department/create', create),
        40014,
      ],
      ['expired', () => wecomClient(identity, expired).post('department/create', create), 42001],
    ]);
    // Rotating the secret revokes every token issued with the old one.
    await identity
      .http()
      .post(`/v1/apps/${syncApp.agentid}/secret`)
      .set('authorization', `Bearer ${corp.token}`)
      .expect(200);
    await expectRefusals([
      ['after rotation', () => sync.post('department/create', create), 40014],
      [
        'old secret',
        async () =>
          (
            await identity
              .http()
              .get('/cgi-bin/gettoken')
              .query({ corpid: corp.corpId, corpsecret: syncApp.secret })
              .expect(200)
          ).body,
        40001,
      ],
    ]);
  });

  it('a read-only app (no permissions) is refused every write with 60011', async () => {
    const reader = (await wecomApp(identity, corp, '只读', { departmentIds: [1] })).client;
    await expectRefusals([
      [
        'department/create',
        () => reader.post('department/create', { name: 'x', parentid: 1 }),
        60011,
      ],
      [
        'department/update',
        () => reader.post('department/update', { id: sales, name: 'x' }),
        60011,
      ],
      ['department/delete', () => reader.get('department/delete', { id: finance }), 60011],
      [
        'user/create',
        () => reader.post('user/create', { userid: 'x', name: 'x', department: [sales] }),
        60011,
      ],
      ['user/update', () => reader.post('user/update', { userid: 'seller', position: 'x' }), 60011],
      ['user/delete', () => reader.get('user/delete', { userid: 'seller' }), 60011],
      [
        'user/batchdelete',
        () => reader.post('user/batchdelete', { useridlist: ['seller'] }),
        60011,
      ],
      ['tag/create', () => reader.post('tag/create', { tagname: 'x' }), 60011],
      ['tag/update', () => reader.post('tag/update', { tagid: 5, tagname: 'x' }), 60011],
      ['tag/delete', () => reader.get('tag/delete', { tagid: 5 }), 60011],
      [
        'tag/addtagusers',
        () => reader.post('tag/addtagusers', { tagid: 5, userlist: ['seller'] }),
        60011,
      ],
      [
        'tag/addtagusers, none valid',
        () => reader.post('tag/addtagusers', { tagid: 5, userlist: ['ghost'] }),
        60011,
      ],
      [
        'tag/deltagusers',
        () => reader.post('tag/deltagusers', { tagid: 5, userlist: ['accountant'] }),
        60011,
      ],
    ]);
    // Reads work.
    expect((await reader.get('user/get', { userid: 'seller' })).errcode).toBe(0);
  });

  it('an app reads only inside its range, and writes only inside it', async () => {
    const salesApp = (await wecomApp(identity, corp, '销售助手', { departmentIds: [sales] }))
      .client;
    expect((await salesApp.get('department/list')).department).toEqual([
      { id: sales, name: '销售部', parentid: 1, order: 0, department_leader: [] },
    ]);
    expect((await salesApp.post('user/list_id', {})).dept_user).toEqual([
      { userid: 'seller', department: sales },
    ]);
    expect((await salesApp.get('tag/list')).taglist).toEqual([]);
    const salesSync = (
      await wecomApp(identity, corp, '销售同步', { departmentIds: [sales] }, ['contacts:edit'])
    ).client;
    await expectRefusals([
      ['department/get outside', () => salesApp.get('department/get', { id: finance }), 60003],
      ['department/list of the root', () => salesApp.get('department/list', { id: 1 }), 60003],
      ['user/get outside', () => salesApp.get('user/get', { userid: 'accountant' }), 60111],
      ['user/list outside', () => salesApp.get('user/list', { department_id: finance }), 60003],
      ['tag/get outside', () => salesApp.get('tag/get', { tagid: 5 }), 40068],
      [
        'create under a department outside',
        () => salesSync.post('department/create', { name: 'x', parentid: finance }),
        60004,
      ],
      [
        'member into a department outside',
        () => salesSync.post('user/create', { userid: 'x', name: 'x', department: [finance] }),
        60123,
      ],
      [
        'update a member outside',
        () => salesSync.post('user/update', { userid: 'accountant', position: 'x' }),
        60111,
      ],
      [
        'move its own top department',
        () => salesSync.post('department/update', { id: sales, parentid: finance }),
        60011,
      ],
    ]);
  });

  it('another corp’s app sees none of this corp’s departments, members or tags', async () => {
    const other = await identity.createCorp();
    const foreign = (
      await wecomApp(identity, other, '通讯录同步', { departmentIds: [1] }, [
        'contacts:edit',
        'tags:manage',
      ])
    ).client;
    await expectRefusals([
      ['department/get', () => foreign.get('department/get', { id: sales }), 60003],
      ['department/delete', () => foreign.get('department/delete', { id: sales }), 60003],
      ['user/get', () => foreign.get('user/get', { userid: 'seller' }), 60111],
      ['user/update', () => foreign.post('user/update', { userid: 'seller', name: 'x' }), 60111],
      ['user/delete', () => foreign.get('user/delete', { userid: 'seller' }), 60111],
      [
        'user/create into our department',
        () => foreign.post('user/create', { userid: 'x', name: 'x', department: [sales] }),
        60123,
      ],
      ['tag/get', () => foreign.get('tag/get', { tagid: 5 }), 40068],
      ['tag/delete', () => foreign.get('tag/delete', { tagid: 5 }), 40068],
      [
        'tag/addtagusers of ours',
        () => foreign.post('tag/addtagusers', { tagid: 5, userlist: ['seller'] }),
        40068,
      ],
    ]);
    expect((await foreign.get('department/list')).department).toEqual([
      expect.objectContaining({ id: 1, parentid: 0 }),
    ]);
  });

  it('refuses bad input with WeCom’s errcodes: malformed or oversized bodies, wrong types, unknown fields, missing parameters', async () => {
    const raw =
      (path: string, body: string, type = 'application/json') =>
      async () =>
        (
          await identity
            .http()
            .post(`/cgi-bin/${path}`)
            .query({ access_token: syncApp.token })
            .set('content-type', type)
            .send(body)
            .expect(200)
        ).body as WecomBody;
    const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), parentid: 1 });
    await expectRefusals([
      ['malformed JSON', raw('department/create', '{"name": "x", parentid: 1'), 47001],
      ['empty JSON body', raw('department/create', ''), 47001],
      ['XML', raw('department/create', '<xml><name>x</name></xml>', 'application/xml'), 47001],
      ['plain text', raw('department/create', 'name=x', 'text/plain'), 40058],
      ['oversized body', raw('department/create', huge), 40058],
      ['a JSON array', raw('department/create', '[{"name": "x", "parentid": 1}]'), 40058],
      ['JSON null', raw('department/create', 'null'), 40058],
      ['no body', raw('department/create', '', 'application/octet-stream'), 47001],
      [
        'string parentid',
        () => sync.post('department/create', { name: 'x', parentid: '1' }),
        40058,
      ],
      [
        'unknown field',
        () => sync.post('department/create', { name: 'x', parentid: 1, colour: 'red' }),
        40058,
      ],
      [
        'department id 1',
        () => sync.post('department/create', { name: 'x', parentid: 1, id: 1 }),
        40058,
      ],
      [
        'bad department name',
        () => sync.post('department/create', { name: 'a|b', parentid: 1 }),
        60009,
      ],
      [
        'sibling name taken',
        () => sync.post('department/create', { name: '销售部', parentid: 1 }),
        60008,
      ],
      [
        'department id taken',
        () => sync.post('department/create', { name: 'y', parentid: 1, id: sales }),
        60008,
      ],
      [
        'unknown parent',
        () => sync.post('department/create', { name: 'x', parentid: 9999 }),
        60004,
      ],
      ['cycle', () => sync.post('department/update', { id: sales, parentid: sales }), 60010],
      [
        'move the root (also the app’s scope root)',
        () => sync.post('department/update', { id: 1, parentid: sales }),
        60011,
      ],
      ['delete the root', () => sync.get('department/delete', { id: 1 }), 60007],
      ['delete with members', () => sync.get('department/delete', { id: sales }), 60005],
      ['id not a number', () => sync.get('department/get', { id: 'abc' }), 40058],
      ['missing id', () => sync.get('department/get'), 40058],
      [
        'unknown query parameter',
        () => sync.get('department/get', { id: sales, colour: 'red' }),
        40058,
      ],
      ['missing userid', () => sync.get('user/get'), 41009],
      ['malformed userid', () => sync.get('user/get', { userid: '张三' }), 40003],
      ['unknown userid', () => sync.get('user/get', { userid: 'ghost' }), 60111],
      [
        'userid taken',
        () => sync.post('user/create', { userid: 'seller', name: 'x', department: [sales] }),
        60102,
      ],
      [
        'mobile taken',
        () =>
          sync.post('user/create', {
            userid: 'x',
            name: 'x',
            department: [sales],
            mobile: '13900000001',
          }),
        60104,
      ],
      [
        'bad mobile',
        () =>
          sync.post('user/create', {
            userid: 'x',
            name: 'x',
            department: [sales],
            mobile: '12345',
          }),
        60103,
      ],
      [
        'bad email',
        () =>
          sync.post('user/create', { userid: 'x', name: 'x', department: [sales], email: 'nope' }),
        60105,
      ],
      ['missing department', () => sync.post('user/create', { userid: 'x', name: 'x' }), 60127],
      [
        'department as a string',
        () => sync.post('user/create', { userid: 'x', name: 'x', department: '1' }),
        40058,
      ],
      [
        'unknown department',
        () => sync.post('user/create', { userid: 'x', name: 'x', department: [9999] }),
        60123,
      ],
      [
        'order per department',
        () =>
          sync.post('user/create', { userid: 'x', name: 'x', department: [sales], order: [1, 2] }),
        40058,
      ],
      [
        'is_leader_in_dept per department',
        () =>
          sync.post('user/create', {
            userid: 'x',
            name: 'x',
            department: [sales],
            is_leader_in_dept: [1, 0],
          }),
        60132,
      ],
      [
        'order without department',
        () => sync.post('user/update', { userid: 'seller', order: [1] }),
        40058,
      ],
      [
        'main department not a membership',
        () =>
          sync.post('user/create', {
            userid: 'x',
            name: 'x',
            department: [sales],
            main_department: finance,
          }),
        40058,
      ],
      [
        'gender 3',
        () =>
          sync.post('user/create', { userid: 'x', name: 'x', department: [sales], gender: '3' }),
        40058,
      ],
      [
        'unknown direct leader',
        () =>
          sync.post('user/create', {
            userid: 'x',
            name: 'x',
            department: [sales],
            direct_leader: ['ghost'],
          }),
        40058,
      ],
      [
        'batchdelete with an unknown userid deletes none',
        () => sync.post('user/batchdelete', { useridlist: ['seller', 'ghost'] }),
        60111,
      ],
      [
        'batchdelete over 200',
        () =>
          sync.post('user/batchdelete', {
            useridlist: Array.from({ length: 201 }, (_, i) => `u${i}`),
          }),
        40031,
      ],
      ['forged list_id cursor', () => sync.post('user/list_id', { cursor: 'bm9wZQ' }), 50100],
      ['list_id limit over 10000', () => sync.post('user/list_id', { limit: 10001 }), 40058],
      ['tag name taken', () => sync.post('tag/create', { tagname: '财务' }), 40071],
      ['tag name too long', () => sync.post('tag/create', { tagname: 'x'.repeat(33) }), 40072],
      ['tag id taken', () => sync.post('tag/create', { tagname: 'y', tagid: 5 }), 40068],
      ['missing tagid', () => sync.post('tag/update', { tagname: 'y' }), 41017],
      ['unknown tag', () => sync.post('tag/update', { tagid: 999, tagname: 'y' }), 40068],
      ['tag targets empty', () => sync.post('tag/addtagusers', { tagid: 5 }), 40058],
      [
        'tag targets as a | string',
        () => sync.post('tag/addtagusers', { tagid: 5, userlist: 'seller|accountant' }),
        40058,
      ],
      [
        'unknown API (batch/invite is not provided)',
        () => sync.post('batch/invite', { user: ['x'] }),
        48002,
      ],
    ]);
  });
});
