import { fromJsonString } from '@bufbuild/protobuf';
import { TagMembersChangedSchema } from '@qiwei/contracts';
import { aDepartment } from './builders';
import { corpEventsOn } from './corp-events';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

describe('identity: tags', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
  });

  const call = (token: string) => {
    const auth = { authorization: `Bearer ${token}` };
    return {
      post: (path: string, body: object) => identity.http().post(path).set(auth).send(body),
      patch: (path: string, body: object) => identity.http().patch(path).set(auth).send(body),
      get: (path: string) => identity.http().get(path).set(auth),
      delete: (path: string) => identity.http().delete(path).set(auth),
    };
  };
  const api = () => call(corp.token);
  const department = async (name: string, parentId = 1) =>
    (
      await api()
        .post('/v1/departments', aDepartment().named(name).under(parentId).build())
        .expect(201)
    ).body as {
      id: number;
    };
  const member = (userid: string, departmentId: number) =>
    api()
      .post('/v1/members', { userid, name: userid, departments: [{ id: departmentId }] })
      .expect(201);

  it('creates, renames, lists and deletes tags, with unique names and ids', async () => {
    const a = await api().post('/v1/tags', { name: '客户经理' }).expect(201);
    expect(a.body).toMatchObject({ id: 1, name: '客户经理', userids: [], departmentIds: [] });
    await api().post('/v1/tags', { name: '指定', id: 50 }).expect(201);
    expect((await api().post('/v1/tags', { name: '下一个' }).expect(201)).body.id).toBe(51);
    expect((await api().post('/v1/tags', { name: '客户经理' }).expect(409)).body.code).toBe(
      'TAG_NAME_TAKEN',
    );
    expect((await api().post('/v1/tags', { name: 'x', id: 50 }).expect(409)).body.code).toBe(
      'TAG_ID_TAKEN',
    );
    expect((await api().patch('/v1/tags/50', { name: '客户经理' }).expect(409)).body.code).toBe(
      'TAG_NAME_TAKEN',
    );
    expect((await api().patch('/v1/tags/50', { name: '改名' }).expect(200)).body.name).toBe('改名');
    const page1 = await api().get('/v1/tags?limit=2').expect(200);
    expect(page1.body.items.map((t: { id: number }) => t.id)).toEqual([1, 50]);
    const page2 = await api().get(`/v1/tags?limit=2&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body).toEqual({ items: [{ id: 51, name: '下一个' }], nextCursor: null });
    await api().delete('/v1/tags/50').expect(204);
    expect((await api().get('/v1/tags/50').expect(404)).body.code).toBe('TAG_NOT_FOUND');
  });

  it('refuses malformed tags and targets with field errors', async () => {
    const bad = await api()
      .post('/v1/tags', { name: 'x'.repeat(33), extra: true })
      .expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['name', 'extra']),
    );
    await api().post('/v1/tags', { name: '   ' }).expect(400);
    await api().post('/v1/tags', { name: 'ok' }).expect(201);
    expect((await api().post('/v1/tags/1/members', {}).expect(400)).body.errors[0].code).toBe(
      'NOTHING_TO_CHANGE',
    );
    await api()
      .post('/v1/tags/1/members', { userids: ['bad id'] })
      .expect(400);
    await api()
      .post('/v1/tags/1/members', { departmentIds: Array.from({ length: 101 }, (_, i) => i + 1) })
      .expect(400);
    await api().get('/v1/tags?cursor=forged').expect(400);
  });

  it('adds and removes members and departments all or nothing, and expands departments for effective members', async () => {
    const sales = await department('销售部');
    const east = await department('华东区', sales.id);
    const rnd = await department('研发部');
    await member('alice', east.id);
    await member('bob', rnd.id);
    await member('carol', sales.id);
    const tag = (await api().post('/v1/tags', { name: '重点' }).expect(201)).body as { id: number };

    const refused = await api()
      .post(`/v1/tags/${tag.id}/members`, {
        userids: ['bob', 'ghost'],
        departmentIds: [sales.id, 999],
      })
      .expect(422);
    expect(refused.body.code).toBe('TAG_TARGETS_NOT_FOUND');
    expect(refused.body.errors).toEqual([
      { field: 'userids', code: 'MEMBER_NOT_FOUND', message: 'ghost' },
      { field: 'departmentIds', code: 'DEPARTMENT_NOT_FOUND', message: '999' },
    ]);
    expect((await api().get(`/v1/tags/${tag.id}`).expect(200)).body).toMatchObject({
      userids: [],
      departmentIds: [],
    });

    const added = await api()
      .post(`/v1/tags/${tag.id}/members`, { userids: ['bob'], departmentIds: [sales.id] })
      .expect(200);
    expect(added.body).toMatchObject({ userids: ['bob'], departmentIds: [sales.id] });
    const effective = await api().get(`/v1/tags/${tag.id}/effective-members`).expect(200);
    expect(effective.body.items.map((m: { userid: string }) => m.userid)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);

    await api()
      .post(`/v1/tags/${tag.id}/members/remove`, { departmentIds: [sales.id] })
      .expect(200);
    const after = await api().get(`/v1/tags/${tag.id}/effective-members`).expect(200);
    expect(after.body.items.map((m: { userid: string }) => m.userid)).toEqual(['bob']);
  });

  it('keeps tags to their corp and requires the super admin role to change them', async () => {
    const other = await identity.createCorp();
    await call(other.token).post('/v1/tags', { name: '机密' }).expect(201);
    expect((await api().get('/v1/tags').expect(200)).body.items).toEqual([]);
    await api().get('/v1/tags/1').expect(404);
    await api().patch('/v1/tags/1', { name: 'x' }).expect(404);
    await api().delete('/v1/tags/1').expect(404);
    await api()
      .post('/v1/tags/1/members', { userids: ['admin'] })
      .expect(404);
    await identity.http().get('/v1/tags').expect(401);
  });

  it('announces tag changes with the whole tag', async () => {
    await member('dave', 1);
    const tag = (await api().post('/v1/tags', { name: '事件' }).expect(201)).body as { id: number };
    await api()
      .post(`/v1/tags/${tag.id}/members`, { userids: ['dave'] })
      .expect(200);
    const events = await corpEventsOn(identity.brokers, 'qiwei.identity.tag.v1', corp.corpId, [
      'qiwei.identity.tag.created.v1',
      'qiwei.identity.tag.members_changed.v1',
    ]);
    expect(fromJsonString(TagMembersChangedSchema, events[1].value).tag).toMatchObject({
      corpId: corp.corpId,
      id: tag.id,
      name: '事件',
      userids: ['dave'],
    });
  });
});
