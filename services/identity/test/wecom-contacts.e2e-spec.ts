import { DataSource } from 'typeorm';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';
import { corpWithSyncApp, wecomApp, type WecomClient } from './wecom-client';

/** The WeCom-compatible contacts API: gettoken, department/*, user/*, tag/* with WeCom's shapes. */
describe('identity: WeCom-compatible contacts API', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  let sync: WecomClient;
  let syncAgentId: number;

  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  beforeEach(async () => {
    const created = await corpWithSyncApp(identity);
    corp = created.corp;
    sync = created.app.client;
    syncAgentId = created.app.agentid;
  });

  it('gettoken exchanges the corp id and an app secret for a 7200 s token; bad ones get 40013 / 40001 / 41002 / 41004', async () => {
    const app = await wecomApp(identity, corp, '只读', { departmentIds: [1] });
    const token = await identity
      .http()
      .get('/cgi-bin/gettoken')
      .query({ corpid: corp.corpId, corpsecret: app.secret })
      .expect(200);
    expect(token.body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      access_token: expect.any(String),
      expires_in: 7200,
    });
    const refusals: [Record<string, string>, number][] = [
      [{ corpid: 'ww0000000000000000', corpsecret: app.secret }, 40013],
      [{ corpid: corp.corpId, corpsecret: 'x'.repeat(43) }, 40001],
      [{ corpsecret: app.secret }, 41002],
      [{ corpid: corp.corpId }, 41004],
    ];
    for (const [query, errcode] of refusals) {
      const response = await identity.http().get('/cgi-bin/gettoken').query(query).expect(200);
      expect([query, response.body.errcode]).toEqual([query, errcode]);
      expect(response.body.access_token).toBeUndefined();
    }
  });

  it('department/create|update|get|list|simplelist|delete with WeCom fields', async () => {
    const created = await sync.post('department/create', {
      name: '研发中心',
      name_en: 'R&D',
      parentid: 1,
      order: 10,
      id: 20,
    });
    expect(created).toEqual({ errcode: 0, errmsg: 'created', id: 20 });
    const child = await sync.post('department/create', { name: '后端组', parentid: 20 });
    expect(child).toMatchObject({ errcode: 0, id: expect.any(Number) });
    const sales = (await sync.post('department/create', { name: '销售部', parentid: 1, order: 5 }))
      .id as number;

    expect(await sync.get('department/get', { id: 20 })).toEqual({
      errcode: 0,
      errmsg: 'ok',
      department: { id: 20, name: '研发中心', parentid: 1, order: 10, department_leader: [] },
    });
    expect(await sync.post('department/update', { id: 20, name: '研发部', order: 30 })).toEqual({
      errcode: 0,
      errmsg: 'updated',
    });
    // Moving takes the whole subtree along.
    await sync.post('department/update', { id: 20, parentid: sales });
    const subtree = await sync.get('department/list', { id: sales });
    // Ids are allocated after the highest explicit one: 21 for 后端组, 22 for 销售部.
    expect(subtree.department).toEqual([
      { id: 20, name: '研发部', parentid: sales, order: 30, department_leader: [] },
      { id: 21, name: '后端组', parentid: 20, order: 0, department_leader: [] },
      { id: 22, name: '销售部', parentid: 1, order: 5, department_leader: [] },
    ]);
    const everything = await sync.get('department/list');
    expect((everything.department as { id: number }[]).map((d) => d.id)).toEqual([1, 20, 21, 22]);
    expect((everything.department as { parentid: number }[])[0].parentid).toBe(0);
    expect((await sync.get('department/simplelist', { id: 20 })).department_id).toEqual([
      { id: 20, parentid: sales, order: 30 },
      { id: child.id, parentid: 20, order: 0 },
    ]);
    expect(await sync.get('department/delete', { id: child.id as number })).toEqual({
      errcode: 0,
      errmsg: 'deleted',
    });
    expect((await sync.get('department/get', { id: child.id as number })).errcode).toBe(60003);
  });

  it('user/create|get|update with departments, orders, leaders, direct leader, gender and status', async () => {
    const east = (await sync.post('department/create', { name: '华东', parentid: 1 })).id as number;
    const west = (await sync.post('department/create', { name: '华西', parentid: 1 })).id as number;
    expect(
      await sync.post('user/create', { userid: 'boss', name: '老板', department: [1], mobile: '' }),
    ).toEqual({ errcode: 0, errmsg: 'created' });
    const created = await sync.post('user/create', {
      userid: 'zhangsan',
      name: '张三',
      alias: 'jackzhang',
      mobile: '13800000000',
      department: [east, west],
      order: [10, 40],
      is_leader_in_dept: [1, 0],
      direct_leader: ['boss'],
      main_department: west,
      position: '产品经理',
      gender: '1',
      email: 'zhangsan@example.com',
      telephone: '020-123456',
      to_invite: false,
      extattr: { attrs: [] },
    });
    expect(created).toEqual({ errcode: 0, errmsg: 'created' });
    expect(await sync.get('user/get', { userid: 'zhangsan' })).toEqual({
      errcode: 0,
      errmsg: 'ok',
      userid: 'zhangsan',
      name: '张三',
      department: [east, west],
      order: [10, 40],
      is_leader_in_dept: [1, 0],
      direct_leader: ['boss'],
      main_department: west,
      position: '产品经理',
      mobile: '13800000000',
      email: 'zhangsan@example.com',
      gender: '1',
      status: 1,
    });
    expect((await sync.get('department/get', { id: east })).department).toMatchObject({
      department_leader: ['zhangsan'],
    });

    expect(
      await sync.post('user/update', {
        userid: 'zhangsan',
        position: '总监',
        gender: 2,
        department: [west],
        order: [7],
        email: '',
        enable: 0,
      }),
    ).toEqual({ errcode: 0, errmsg: 'updated' });
    expect(await sync.get('user/get', { userid: 'zhangsan' })).toMatchObject({
      department: [west],
      order: [7],
      is_leader_in_dept: [0],
      main_department: west,
      position: '总监',
      email: '',
      gender: '2',
      status: 2,
    });
    await sync.post('user/update', { userid: 'zhangsan', enable: 1 });
    expect((await sync.get('user/get', { userid: 'zhangsan' })).status).toBe(1);
    // Created disabled; a member invited through /v1 stays inactive (4) when a sync sends enable: 1.
    await sync.post('user/create', { userid: 'off', name: '停用', department: [east], enable: 0 });
    expect((await sync.get('user/get', { userid: 'off' })).status).toBe(2);
    await identity
      .http()
      .post('/v1/members')
      .set('authorization', `Bearer ${corp.token}`)
      .send({ userid: 'invited', name: '新人', departments: [{ id: east }], status: 'inactive' })
      .expect(201);
    await sync.post('user/update', { userid: 'invited', enable: 1, position: '实习' });
    expect(await sync.get('user/get', { userid: 'invited' })).toMatchObject({
      status: 4,
      position: '实习',
    });
    await identity
      .http()
      .post('/v1/members/invited/leave')
      .set('authorization', `Bearer ${corp.token}`)
      .expect(200);
    expect((await sync.get('user/get', { userid: 'invited' })).status).toBe(5);
  });

  it('user/list|simplelist by department (fetch_child), list_id page by page, delete and batchdelete', async () => {
    const east = (await sync.post('department/create', { name: '华东', parentid: 1 })).id as number;
    const shanghai = (await sync.post('department/create', { name: '上海', parentid: east }))
      .id as number;
    for (const [userid, department] of [
      ['a1', [east]],
      ['a2', [shanghai]],
      ['a3', [east, shanghai]],
    ] as const) {
      await sync.post('user/create', { userid, name: userid, department });
    }
    const direct = await sync.get('user/simplelist', { department_id: east });
    expect(direct.userlist).toEqual([
      { userid: 'a1', name: 'a1', department: [east] },
      { userid: 'a3', name: 'a3', department: [east, shanghai] },
    ]);
    const all = await sync.get('user/list', { department_id: east, fetch_child: 1 });
    expect((all.userlist as { userid: string }[]).map((u) => u.userid)).toEqual(['a1', 'a2', 'a3']);
    expect((all.userlist as object[])[1]).toMatchObject({
      userid: 'a2',
      department: [shanghai],
      order: [0],
      status: 1,
      gender: '0',
    });

    const first = await sync.post('user/list_id', { limit: 2 });
    expect(first).toMatchObject({ errcode: 0, next_cursor: expect.any(String) });
    expect(first.dept_user).toEqual([
      { userid: 'a1', department: east },
      { userid: 'a2', department: shanghai },
    ]);
    const second = await sync.post('user/list_id', { cursor: first.next_cursor, limit: 2 });
    expect(second.dept_user).toEqual([
      { userid: 'a3', department: east },
      { userid: 'a3', department: shanghai },
      { userid: 'admin', department: 1 },
    ]);
    expect(second.next_cursor).toBe('');

    expect(await sync.get('user/delete', { userid: 'a1' })).toEqual({
      errcode: 0,
      errmsg: 'deleted',
    });
    expect(await sync.post('user/batchdelete', { useridlist: ['a2', 'a3'] })).toEqual({
      errcode: 0,
      errmsg: 'deleted',
    });
    expect(
      (await sync.get('user/simplelist', { department_id: east, fetch_child: 1 })).userlist,
    ).toEqual([]);
  });

  it('tag/create|update|get|list|addtagusers|deltagusers|delete; invalid members and departments come back in invalidlist / invalidparty', async () => {
    const east = (await sync.post('department/create', { name: '华东', parentid: 1 })).id as number;
    await sync.post('user/create', { userid: 'lisi', name: '李四', department: [east] });
    await sync.post('user/create', { userid: 'wangwu', name: '王五', department: [east] });
    expect(await sync.post('tag/create', { tagname: 'UI', tagid: 12 })).toEqual({
      errcode: 0,
      errmsg: 'created',
      tagid: 12,
    });
    const other = (await sync.post('tag/create', { tagname: '骨干' })).tagid as number;
    expect(await sync.post('tag/update', { tagid: 12, tagname: 'UI设计' })).toEqual({
      errcode: 0,
      errmsg: 'updated',
    });

    const added = await sync.post('tag/addtagusers', {
      tagid: 12,
      userlist: ['lisi', 'ghost', 'wangwu', '不存在'],
      partylist: [east, 9999],
    });
    expect(added).toEqual({
      errcode: 0,
      errmsg: 'ok',
      invalidlist: 'ghost|不存在',
      invalidparty: [9999],
    });
    expect(await sync.get('tag/get', { tagid: 12 })).toEqual({
      errcode: 0,
      errmsg: 'ok',
      tagname: 'UI设计',
      userlist: [
        { userid: 'lisi', name: '李四' },
        { userid: 'wangwu', name: '王五' },
      ],
      partylist: [east],
    });
    // Nothing valid: 40070 and no change.
    expect(
      (await sync.post('tag/addtagusers', { tagid: other, userlist: ['ghost'], partylist: [9999] }))
        .errcode,
    ).toBe(40070);
    expect((await sync.get('tag/get', { tagid: other })).userlist).toEqual([]);

    expect(
      await sync.post('tag/deltagusers', {
        tagid: 12,
        userlist: ['wangwu', 'ghost'],
        partylist: [east],
      }),
    ).toEqual({ errcode: 0, errmsg: 'ok', invalidlist: 'ghost' });
    expect(await sync.get('tag/get', { tagid: 12 })).toMatchObject({
      userlist: [{ userid: 'lisi', name: '李四' }],
      partylist: [],
    });
    expect((await sync.get('tag/list')).taglist).toEqual([
      { tagid: 12, tagname: 'UI设计' },
      { tagid: other, tagname: '骨干' },
    ]);
    expect(await sync.get('tag/delete', { tagid: 12 })).toEqual({ errcode: 0, errmsg: 'deleted' });
    expect((await sync.get('tag/get', { tagid: 12 })).errcode).toBe(40068);
  });

  it('documents /cgi-bin in the OpenAPI document under the wecom tag, with ?access_token=', async () => {
    const doc = (await identity.http().get('/docs-json').expect(200)).body;
    const create = doc.paths['/cgi-bin/user/create'].post;
    expect(create.tags).toEqual(['wecom']);
    expect(create.parameters).toEqual([
      expect.objectContaining({ name: 'access_token', in: 'query', required: true }),
    ]);
    expect(doc.paths['/cgi-bin/gettoken'].get.tags).toEqual(['wecom']);
    expect(doc.components.schemas.WecomCreateUserDto.required).toEqual(
      expect.arrayContaining(['userid', 'name', 'department']),
    );
  });

  it('records /cgi-bin changes in the audit log with the app as the actor', async () => {
    await sync.post('department/create', { name: '审计部', parentid: 1, id: 7 });
    await sync.post('user/create', { userid: 'audited', name: '被审计', department: [7] });
    await sync.post('tag/create', { tagname: '审计', tagid: 3 });
    const rows = await identity.app.get(DataSource).query(
      `SELECT action, actor_type, actor_id FROM audit_log
        WHERE corp_id = $1 AND action IN ('department.created', 'member.created', 'tag.created')
        ORDER BY id`,
      [corp.corpId],
    );
    const actor = { actor_type: 'app', actor_id: `app:${syncAgentId}` };
    expect(rows).toEqual([
      { action: 'department.created', ...actor },
      { action: 'member.created', ...actor },
      { action: 'tag.created', ...actor },
    ]);
  });
});
