import { DataSource } from 'typeorm';
import { AccessTokensService } from '../src/tokens/access-tokens.service';
import { aDepartment } from './builders';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

describe('identity: departments', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;

  beforeAll(async () => {
    identity = await bootIdentity({ DEPARTMENT_MAX_DEPTH: '4', DEPARTMENT_MAX_PER_CORP: '12' });
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
  });

  const as = (token: string) => ({
    create: (body: object) =>
      identity.http().post('/v1/departments').set('authorization', `Bearer ${token}`).send(body),
    get: (id: number | string) =>
      identity.http().get(`/v1/departments/${id}`).set('authorization', `Bearer ${token}`),
    update: (id: number | string, body: object) =>
      identity
        .http()
        .patch(`/v1/departments/${id}`)
        .set('authorization', `Bearer ${token}`)
        .send(body),
    remove: (id: number | string) =>
      identity.http().delete(`/v1/departments/${id}`).set('authorization', `Bearer ${token}`),
    children: (id: number, query = '') =>
      identity
        .http()
        .get(`/v1/departments/${id}/children${query}`)
        .set('authorization', `Bearer ${token}`),
    subtree: (id: number, query = '') =>
      identity
        .http()
        .get(`/v1/departments/${id}/subtree${query}`)
        .set('authorization', `Bearer ${token}`),
  });
  const api = () => as(corp.token);
  const create = async (body: object) =>
    (await api().create(body).expect(201)).body as { id: number; depth: number };
  const countDepartments = async () =>
    Number(
      (
        await identity.app
          .get(DataSource)
          .query('SELECT count(*) AS n FROM departments WHERE corp_id = $1', [corp.corpId])
      )[0].n,
    );

  it('creates departments with ids unique in the corp, and reads them back', async () => {
    const sales = await create(aDepartment().named('销售部').build());
    const east = await create(aDepartment().named('华东区').under(sales.id).withOrder(5).build());
    expect(sales).toMatchObject({ id: 2, parentId: 1, name: '销售部', depth: 2, order: 0 });
    expect(east).toMatchObject({ id: 3, parentId: 2, name: '华东区', depth: 3, order: 5 });
    const read = await api().get(3).expect(200);
    expect(read.body).toEqual({ ...east, leaders: [], admins: [] });
  });

  it('accepts an explicit id and keeps allocating after it', async () => {
    await create(aDepartment().withId(100).build());
    const next = await create(aDepartment().build());
    expect(next.id).toBe(101);
    const taken = await api().create(aDepartment().withId(100).build()).expect(409);
    expect(taken.body.code).toBe('DEPARTMENT_ID_TAKEN');
  });

  it('refuses names that break the rules, each with its code, and creates nothing', async () => {
    const before = await countDepartments();
    for (const name of [
      '',
      '   ',
      'a'.repeat(65),
      'R&D\\Lab',
      'a:b',
      'a*b',
      'a?b',
      'a"b',
      'a<b',
      'a>b',
      'a|b',
    ]) {
      const res = await api().create(aDepartment().named(name).build()).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'DEPARTMENT_NAME_INVALID', status: 400 });
      expect(res.body.errors[0].field).toBe('name');
    }
    // 64 Chinese characters are 64 characters, not 192 bytes.
    await api()
      .create(aDepartment().named('部'.repeat(64)).build())
      .expect(201);
    expect(await countDepartments()).toBe(before + 1);
  });

  it('refuses malformed bodies with field errors', async () => {
    const res = await api()
      .create({ name: 42, parentId: 'one', order: -1, colour: 'red' })
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['name', 'parentId', 'order', 'colour']),
    );
    const noChange = await api().update(1, {}).expect(400);
    expect(noChange.body.errors[0].code).toBe('NOTHING_TO_UPDATE');
    const badId = await api().get('abc').expect(400);
    expect(badId.body.errors[0].field).toBe('id');
    await api().get('99999999999').expect(400);
  });

  it('keeps names unique among siblings but not across parents', async () => {
    const a = await create(aDepartment().named('A').build());
    const b = await create(aDepartment().named('B').build());
    await create(aDepartment().named('市场部').under(a.id).build());
    await create(aDepartment().named('市场部').under(b.id).build());
    const dup = await api().create(aDepartment().named('市场部').under(a.id).build()).expect(409);
    expect(dup.body.code).toBe('DEPARTMENT_NAME_TAKEN');
    const renameDup = await api().update(b.id, { name: 'A' }).expect(409);
    expect(renameDup.body.code).toBe('DEPARTMENT_NAME_TAKEN');
  });

  it('refuses a parent that does not exist', async () => {
    const res = await api().create(aDepartment().under(999).build()).expect(422);
    expect(res.body.code).toBe('PARENT_DEPARTMENT_NOT_FOUND');
  });

  it('limits the depth of the tree (configured to 4 here), on create and on move', async () => {
    const l2 = await create(aDepartment().build());
    const l3 = await create(aDepartment().under(l2.id).build());
    const l4 = await create(aDepartment().under(l3.id).build());
    expect(l4.depth).toBe(4);
    const tooDeep = await api().create(aDepartment().under(l4.id).build()).expect(422);
    expect(tooDeep.body.code).toBe('DEPARTMENT_TOO_DEEP');

    const other = await create(aDepartment().build());
    await create(aDepartment().under(other.id).build());
    // other (height 2) under l3 (depth 3) would reach depth 5.
    const moveTooDeep = await api().update(other.id, { parentId: l3.id }).expect(422);
    expect(moveTooDeep.body.code).toBe('DEPARTMENT_TOO_DEEP');
  });

  it('limits the number of departments per corp (configured to 12 here)', async () => {
    // The root counts: 11 more fit.
    for (let i = 0; i < 11; i++) await create(aDepartment().build());
    const res = await api().create(aDepartment().build()).expect(422);
    expect(res.body.code).toBe('DEPARTMENT_LIMIT_REACHED');
    expect(await countDepartments()).toBe(12);
  });

  it('renames and reorders; children list higher order first', async () => {
    const p = await create(aDepartment().build());
    const x = await create(aDepartment().named('X').under(p.id).withOrder(1).build());
    const y = await create(aDepartment().named('Y').under(p.id).withOrder(3).build());
    const z = await create(aDepartment().named('Z').under(p.id).withOrder(2).build());
    const names = async () =>
      (await api().children(p.id).expect(200)).body.items.map((d: { name: string }) => d.name);
    expect(await names()).toEqual(['Y', 'Z', 'X']);
    await api().update(x.id, { order: 10, name: 'X2' }).expect(200);
    expect(await names()).toEqual(['X2', 'Y', 'Z']);
    expect(y.id).toBeLessThan(z.id);
  });

  it('moves a department with its whole subtree', async () => {
    const a = await create(aDepartment().build());
    const b = await create(aDepartment().build());
    const a1 = await create(aDepartment().under(a.id).build());
    const a11 = await create(aDepartment().under(a1.id).build());
    const moved = await api().update(a1.id, { parentId: b.id }).expect(200);
    expect(moved.body).toMatchObject({ parentId: b.id, depth: 3 });
    expect((await api().get(a11.id).expect(200)).body).toMatchObject({ parentId: a1.id, depth: 4 });
    const underB = (await api().subtree(b.id).expect(200)).body.items.map(
      (d: { id: number }) => d.id,
    );
    expect(underB).toEqual([b.id, a1.id, a11.id]);
    const underA = (await api().subtree(a.id).expect(200)).body.items.map(
      (d: { id: number }) => d.id,
    );
    expect(underA).toEqual([a.id]);
  });

  it('never moves a department under itself or its own descendant, and never moves the root', async () => {
    const a = await create(aDepartment().build());
    const a1 = await create(aDepartment().under(a.id).build());
    const self = await api().update(a.id, { parentId: a.id }).expect(422);
    expect(self.body.code).toBe('DEPARTMENT_MOVE_INTO_OWN_SUBTREE');
    const descendant = await api().update(a.id, { parentId: a1.id }).expect(422);
    expect(descendant.body.code).toBe('DEPARTMENT_MOVE_INTO_OWN_SUBTREE');
    const root = await api().update(1, { parentId: a.id }).expect(422);
    expect(root.body.code).toBe('ROOT_DEPARTMENT_IMMUTABLE');
    expect((await api().get(a.id).expect(200)).body.parentId).toBe(1);
  });

  it('deletes an empty department, but not the root, one with children, or one with members', async () => {
    const root = await api().remove(1).expect(422);
    expect(root.body.code).toBe('ROOT_DEPARTMENT_IMMUTABLE');

    const parent = await create(aDepartment().build());
    await create(aDepartment().under(parent.id).build());
    const withChildren = await api().remove(parent.id).expect(409);
    expect(withChildren.body.code).toBe('DEPARTMENT_HAS_CHILDREN');

    const staffed = await create(aDepartment().build());
    await identity
      .http()
      .post('/v1/members')
      .set('authorization', `Bearer ${corp.token}`)
      .send({ name: '员工', departments: [{ id: staffed.id }] })
      .expect(201);
    const withMembers = await api().remove(staffed.id).expect(409);
    expect(withMembers.body.code).toBe('DEPARTMENT_HAS_MEMBERS');

    const empty = await create(aDepartment().build());
    await api().remove(empty.id).expect(204);
    const gone = await api().get(empty.id).expect(404);
    expect(gone.body.code).toBe('DEPARTMENT_NOT_FOUND');
    expect((await api().remove(empty.id).expect(404)).body.code).toBe('DEPARTMENT_NOT_FOUND');
  });

  it('paginates children and subtrees with cursors, and refuses forged cursors', async () => {
    const p = await create(aDepartment().build());
    for (let i = 0; i < 5; i++)
      await create(
        aDepartment()
          .under(p.id)
          .withOrder(i % 2)
          .build(),
      );
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api().children(p.id, query).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((d: { id: number }) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);

    const sub = await api().subtree(1, '?limit=3').expect(200);
    expect(sub.body.items.map((d: { id: number }) => d.id)).toEqual([1, 2, 3]);
    const next = await api().subtree(1, `?limit=3&cursor=${sub.body.nextCursor}`).expect(200);
    expect(next.body.items[0].id).toBe(4);

    const forged = await api().children(p.id, '?cursor=not-a-cursor').expect(400);
    expect(forged.body.code).toBe('INVALID_CURSOR');
    await api().children(p.id, '?limit=5000').expect(400);
  });

  it('never shows or changes another corp’s departments', async () => {
    const other = await identity.createCorp('另一家公司');
    const secret = (
      await as(other.token).create(aDepartment().named('B-secret').build()).expect(201)
    ).body;
    for (let i = 0; i < 3; i++) await as(other.token).create(aDepartment().build()).expect(201);

    // Same integer ids exist in both corps: each token only ever sees its own corp's rows.
    const mine = await api().subtree(1).expect(200);
    expect(mine.body.items.map((d: { name: string }) => d.name)).not.toContain('B-secret');
    expect(mine.body.items).toHaveLength(1);
    expect((await api().get(secret.id).expect(404)).body.code).toBe('DEPARTMENT_NOT_FOUND');
    await api().update(secret.id, { name: 'hijacked' }).expect(404);
    await api().remove(secret.id).expect(404);
    await api().create(aDepartment().under(secret.id).build()).expect(422);
    expect((await as(other.token).get(secret.id).expect(200)).body.name).toBe('B-secret');
  });

  it('requires a valid token, and the super admin role to change anything', async () => {
    await identity.http().get('/v1/departments/1').expect(401);
    const forged = await identity
      .http()
      .get('/v1/departments/1')
      .set('authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.')
      .expect(401);
    expect(forged.body.code).toBe('TOKEN_INVALID');
    // A member token (no admin role), as sign-in will issue them.
    await identity
      .http()
      .post('/v1/members')
      .set('authorization', `Bearer ${corp.token}`)
      .send({ userid: 'someone', name: '普通成员', departments: [{ id: 1 }] })
      .expect(201);
    const memberToken = (
      await identity.app
        .get(AccessTokensService)
        .issue({ corpId: corp.corpId, userId: 'someone', roles: ['member'] })
    ).accessToken;
    await as(memberToken).get(1).expect(200);
    const refused = await as(memberToken).create(aDepartment().build()).expect(403);
    expect(refused.body.code).toBe('ROLE_REQUIRED');
    await as(memberToken).remove(1).expect(403);
  });

  it('serialises concurrent creates in one corp: ids stay unique and the limit holds', async () => {
    const results = await Promise.all(
      Array.from({ length: 15 }, () => api().create(aDepartment().build())),
    );
    const created = results.filter((r) => r.status === 201).map((r) => r.body.id as number);
    expect(created).toHaveLength(11);
    expect(new Set(created).size).toBe(11);
    expect(
      results
        .filter((r) => r.status === 422)
        .every((r) => r.body.code === 'DEPARTMENT_LIMIT_REACHED'),
    ).toBe(true);
  });
});
