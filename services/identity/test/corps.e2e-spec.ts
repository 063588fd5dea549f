import { DataSource } from 'typeorm';
import { bootIdentity, PLATFORM_TOKEN, type IdentityTestApp } from './identity-test-app';

describe('identity: corps', () => {
  let identity: IdentityTestApp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  it('creates a corp with its root department and a super admin who can act at once', async () => {
    const res = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ name: '示例科技有限公司', admin: { userid: 'zhangsan', name: '张三' } })
      .expect(201);
    expect(res.body.corp.corpId).toMatch(/^ww[0-9a-f]{16}$/);
    expect(res.body.rootDepartment).toMatchObject({
      id: 1,
      parentId: null,
      name: '示例科技有限公司',
      depth: 1,
    });
    expect(res.body.admin).toEqual({ userid: 'zhangsan', name: '张三', roles: ['super_admin'] });
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 7200 });

    const current = await identity
      .http()
      .get('/v1/corps/current')
      .set('authorization', `Bearer ${res.body.accessToken}`)
      .expect(200);
    expect(current.body).toMatchObject({ corpId: res.body.corp.corpId, name: '示例科技有限公司' });
  });

  it('refuses to create a corp without the platform token, or with a wrong one', async () => {
    const body = { name: 'X', admin: { userid: 'a', name: 'A' } };
    const missing = await identity.http().post('/v1/corps').send(body).expect(401);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.body.code).toBe('UNAUTHORIZED');
    const wrong = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', 'Bearer nope')
      .send(body)
      .expect(401);
    expect(wrong.body.code).toBe('PLATFORM_TOKEN_INVALID');
  });

  it('refuses a corp admin token where the platform token is required', async () => {
    const corp = await identity.createCorp();
    const res = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', `Bearer ${corp.token}`)
      .send({ name: 'X', admin: { userid: 'a', name: 'A' } })
      .expect(401);
    expect(res.body.code).toBe('PLATFORM_TOKEN_INVALID');
  });

  it('answers malformed corp input with field errors and creates nothing', async () => {
    const countCorps = async () => {
      const ds = identity.app.get(DataSource);
      return Number((await ds.query('SELECT count(*) AS n FROM corps'))[0].n);
    };
    const before = await countCorps();
    const res = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ name: 'a|b', admin: { userid: 'bad id!', name: '' }, extra: true })
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'admin.userid', 'admin.name', 'extra']));
    expect(await countCorps()).toBe(before);
  });

  it('answers malformed JSON with a problem document', async () => {
    const res = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .set('content-type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('MALFORMED_JSON');
  });

  it('refuses an oversized body with 413', async () => {
    const res = await identity
      .http()
      .post('/v1/corps')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ name: 'x'.repeat(2 * 1024 * 1024), admin: { userid: 'a', name: 'A' } })
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('lets the platform operator issue a fresh token for a super admin, and for no one else', async () => {
    const corp = await identity.createCorp();
    const res = await identity
      .http()
      .post(`/v1/corps/${corp.corpId}/admin-tokens`)
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ userid: corp.adminUserid })
      .expect(201);
    await identity
      .http()
      .get('/v1/departments/1')
      .set('authorization', `Bearer ${res.body.accessToken}`)
      .expect(200);

    const unknownMember = await identity
      .http()
      .post(`/v1/corps/${corp.corpId}/admin-tokens`)
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ userid: 'nobody' })
      .expect(404);
    expect(unknownMember.body.code).toBe('MEMBER_NOT_FOUND');
    const unknownCorp = await identity
      .http()
      .post('/v1/corps/ww0000000000000000/admin-tokens')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ userid: 'admin' })
      .expect(404);
    expect(unknownCorp.body.code).toBe('CORP_NOT_FOUND');
    const badCorp = await identity
      .http()
      .post('/v1/corps/nonsense/admin-tokens')
      .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
      .send({ userid: 'admin' })
      .expect(400);
    expect(badCorp.body.errors[0].field).toBe('corpId');
  });
});
