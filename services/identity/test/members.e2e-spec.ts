import { fromJsonString } from '@bufbuild/protobuf';
import { MemberLeftSchema } from '@qiwei/contracts';
import { eventually } from '@qiwei/testing';
import { DataSource } from 'typeorm';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { aDepartment } from './builders';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

describe('identity: members', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
  });

  const as = (token: string) => ({
    create: (body: object) =>
      identity.http().post('/v1/members').set('authorization', `Bearer ${token}`).send(body),
    get: (userid: string) =>
      identity.http().get(`/v1/members/${userid}`).set('authorization', `Bearer ${token}`),
    update: (userid: string, body: object) =>
      identity
        .http()
        .patch(`/v1/members/${userid}`)
        .set('authorization', `Bearer ${token}`)
        .send(body),
    action: (userid: string, action: 'disable' | 'enable' | 'leave') =>
      identity
        .http()
        .post(`/v1/members/${userid}/${action}`)
        .set('authorization', `Bearer ${token}`),
    remove: (userid: string) =>
      identity.http().delete(`/v1/members/${userid}`).set('authorization', `Bearer ${token}`),
    list: (departmentId: number, query = '') =>
      identity
        .http()
        .get(`/v1/departments/${departmentId}/members${query}`)
        .set('authorization', `Bearer ${token}`),
    department: async (name: string, parentId = 1) =>
      (
        await identity
          .http()
          .post('/v1/departments')
          .set('authorization', `Bearer ${token}`)
          .send(aDepartment().named(name).under(parentId).build())
          .expect(201)
      ).body as { id: number },
  });
  const api = () => as(corp.token);

  it('adds a member to several departments and reads them back', async () => {
    const sales = await api().department('销售部');
    const east = await api().department('华东区', sales.id);
    const res = await api()
      .create({
        userid: 'zhangsan',
        name: '张三',
        mobile: '13800138000',
        email: 'zhangsan@example.com',
        position: '销售经理',
        gender: 'male',
        departments: [
          { id: sales.id, order: 5 },
          { id: east.id, isLeader: true },
        ],
        mainDepartmentId: east.id,
        directLeaders: ['admin'],
      })
      .expect(201);
    expect(res.body).toMatchObject({
      userid: 'zhangsan',
      name: '张三',
      mobile: '13800138000',
      status: 'active',
      mainDepartmentId: east.id,
      departments: [
        { id: sales.id, order: 5, isLeader: false },
        { id: east.id, order: 0, isLeader: true },
      ],
      directLeaders: ['admin'],
      roles: ['member'],
      leftAt: null,
    });
    expect((await api().get('zhangsan').expect(200)).body).toEqual(res.body);
    // A generated userid when none is given.
    const generated = await api()
      .create({ name: '李四', departments: [{ id: 1 }] })
      .expect(201);
    expect(generated.body.userid).toMatch(/^qw[0-9a-f]{12}$/);
    expect(generated.body.mainDepartmentId).toBe(1);
  });

  it('refuses malformed and conflicting members with field errors, and creates nothing', async () => {
    const count = async () =>
      Number(
        (
          await identity.app
            .get(DataSource)
            .query<{ n: string }[]>('SELECT count(*) AS n FROM members WHERE corp_id = $1', [
              corp.corpId,
            ])
        )[0].n,
      );
    const before = await count();
    const bad = await api()
      .create({
        userid: 'bad id',
        name: ' ',
        mobile: '12345',
        email: 'nope',
        gender: 'x',
        departments: [],
        extra: 1,
      })
      .expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining([
        'userid',
        'name',
        'mobile',
        'email',
        'gender',
        'departments',
        'extra',
      ]),
    );
    expect(
      (
        await api()
          .create({ userid: 'admin', name: 'X', departments: [{ id: 1 }] })
          .expect(409)
      ).body.code,
    ).toBe('MEMBER_USERID_TAKEN');
    expect(
      (
        await api()
          .create({ name: 'X', departments: [{ id: 404 }] })
          .expect(422)
      ).body.code,
    ).toBe('MEMBER_DEPARTMENT_NOT_FOUND');
    expect(
      (
        await api()
          .create({ name: 'X', departments: [{ id: 1 }], mainDepartmentId: 2 })
          .expect(422)
      ).body.code,
    ).toBe('MAIN_DEPARTMENT_NOT_A_MEMBERSHIP');
    expect(
      (
        await api()
          .create({ name: 'X', departments: [{ id: 1 }], directLeaders: ['ghost'] })
          .expect(422)
      ).body.code,
    ).toBe('DIRECT_LEADER_INVALID');
    await api()
      .create({ name: 'A', mobile: '+8613900139000', departments: [{ id: 1 }] })
      .expect(201);
    expect(
      (
        await api()
          .create({ name: 'B', mobile: '+8613900139000', departments: [{ id: 1 }] })
          .expect(409)
      ).body.code,
    ).toBe('MEMBER_MOBILE_TAKEN');
    expect(await count()).toBe(before + 1);
  });

  it('updates the profile and memberships', async () => {
    const d = await api().department('研发部');
    await api()
      .create({ userid: 'wangwu', name: '王五', departments: [{ id: 1 }] })
      .expect(201);
    const updated = await api()
      .update('wangwu', {
        name: '王五五',
        position: '工程师',
        departments: [{ id: d.id, order: 3 }],
        email: null,
      })
      .expect(200);
    expect(updated.body).toMatchObject({
      name: '王五五',
      position: '工程师',
      mainDepartmentId: d.id,
      departments: [{ id: d.id, order: 3, isLeader: false }],
      email: null,
    });
    expect((await api().update('wangwu', {}).expect(400)).body.errors[0].code).toBe(
      'NOTHING_TO_UPDATE',
    );
    expect((await api().update('nobody', { name: 'x' }).expect(404)).body.code).toBe(
      'MEMBER_NOT_FOUND',
    );
  });

  it('disables, enables, marks as left and deletes, but always keeps a super admin', async () => {
    await api()
      .create({ userid: 'zhaoliu', name: '赵六', departments: [{ id: 1 }] })
      .expect(201);
    expect((await api().action('zhaoliu', 'disable').expect(200)).body.status).toBe('disabled');
    expect((await api().action('zhaoliu', 'disable').expect(422)).body.code).toBe(
      'MEMBER_STATUS_TRANSITION_INVALID',
    );
    expect((await api().action('zhaoliu', 'enable').expect(200)).body.status).toBe('active');
    const left = await api().action('zhaoliu', 'leave').expect(200);
    expect(left.body.status).toBe('left');
    expect(Date.parse(left.body.leftAt)).not.toBeNaN();
    expect((await api().action('zhaoliu', 'enable').expect(422)).body.code).toBe(
      'MEMBER_STATUS_TRANSITION_INVALID',
    );
    await api().remove('zhaoliu').expect(204);
    await api().get('zhaoliu').expect(404);

    for (const action of ['disable', 'leave'] as const) {
      expect((await api().action('admin', action).expect(422)).body.code).toBe('LAST_SUPER_ADMIN');
    }
    expect((await api().remove('admin').expect(422)).body.code).toBe('LAST_SUPER_ADMIN');
  });

  it('revokes a member’s tokens at once when they are disabled, leave or are deleted', async () => {
    const tokens = identity.app.get(AccessTokensService);
    const tokenOf = async (userid: string) =>
      (await tokens.issue({ corpId: corp.corpId, userId: userid, roles: ['member'] })).accessToken;
    for (const userid of ['m1', 'm2', 'm3']) {
      await api()
        .create({ userid, name: userid, departments: [{ id: 1 }] })
        .expect(201);
    }
    const [t1, t2, t3] = [await tokenOf('m1'), await tokenOf('m2'), await tokenOf('m3')];
    for (const token of [t1, t2, t3]) await as(token).get('admin').expect(200);

    await api().action('m1', 'disable').expect(200);
    expect((await as(t1).get('admin').expect(401)).body.code).toBe('TOKEN_REVOKED');
    await api().action('m1', 'enable').expect(200);
    // Re-enabled: tokens from before the disable stay revoked; new ones work.
    await as(t1).get('admin').expect(401);
    // A token issued after the re-enable works, once the clock passes the revocation's second
    // (JWT iat has one-second resolution).
    await eventually(
      async () =>
        as(await tokenOf('m1'))
          .get('admin')
          .expect(200),
      { intervalMs: 200 },
    );

    await api().action('m2', 'leave').expect(200);
    expect((await as(t2).get('admin').expect(401)).body.code).toBe('TOKEN_REVOKED');
    await api().remove('m3').expect(204);
    expect((await as(t3).get('admin').expect(401)).body.code).toBe('TOKEN_REVOKED');
  });

  it('lists a department’s members directly or through its subtree, paginated, filtered by status', async () => {
    const top = await api().department('总部');
    const child = await api().department('子部门', top.id);
    for (let i = 0; i < 5; i++)
      await api().create({ userid: `top${i}`, name: `T${i}`, departments: [{ id: top.id }] });
    for (let i = 0; i < 3; i++)
      await api().create({ userid: `sub${i}`, name: `S${i}`, departments: [{ id: child.id }] });
    await api().action('sub0', 'disable').expect(200);
    const direct = await api().list(top.id).expect(200);
    expect(direct.body.items.map((m: { userid: string }) => m.userid)).toEqual([
      'top0',
      'top1',
      'top2',
      'top3',
      'top4',
    ]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { userid: string }[]; nextCursor: string | null } } = await api()
        .list(top.id, `?recursive=true&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      seen.push(...page.body.items.map((m) => m.userid));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['sub0', 'sub1', 'sub2', 'top0', 'top1', 'top2', 'top3', 'top4']);
    const disabled = await api().list(top.id, '?recursive=true&status=disabled').expect(200);
    expect(disabled.body.items.map((m: { userid: string }) => m.userid)).toEqual(['sub0']);
    expect((await api().list(top.id, '?cursor=forged').expect(400)).body.code).toBe(
      'INVALID_CURSOR',
    );
    await api().list(top.id, '?status=asleep').expect(400);
  });

  it('never shows or changes another corp’s members, and needs the super admin role to write', async () => {
    const other = await identity.createCorp();
    await as(other.token)
      .create({ userid: 'secret', name: '机密', departments: [{ id: 1 }] })
      .expect(201);
    await api().get('secret').expect(404);
    await api().update('secret', { name: 'x' }).expect(404);
    await api().action('secret', 'disable').expect(404);
    await api().remove('secret').expect(404);
    const mine = await api().list(1, '?recursive=true').expect(200);
    expect(mine.body.items.map((m: { userid: string }) => m.userid)).toEqual(['admin']);
    // The same userid may exist in both corps.
    await api()
      .create({ userid: 'secret', name: '同名', departments: [{ id: 1 }] })
      .expect(201);
    expect((await as(other.token).get('secret').expect(200)).body.name).toBe('机密');
    await identity.http().get('/v1/members/admin').expect(401);
    await api().get('bad%20id').expect(400);
  });

  it('announces member changes with their full state', async () => {
    await api()
      .create({ userid: 'qianqi', name: '钱七', departments: [{ id: 1 }] })
      .expect(201);
    await api().action('qianqi', 'leave').expect(200);
    const events = await corpEventsOn(identity.brokers, 'qiwei.identity.member.v1', corp.corpId, [
      'qiwei.identity.member.created.v1', // the corp's first super admin
      'qiwei.identity.member.created.v1',
      'qiwei.identity.member.left.v1',
    ]);
    expect(fromJsonString(MemberLeftSchema, events[2].value).member).toMatchObject({
      corpId: corp.corpId,
      userid: 'qianqi',
      status: 'left',
      departments: [{ departmentId: 1 }],
    });
  });
});
