import { DataSource } from 'typeorm';
import { aDepartment } from './builders';
import { bootIdentity, PLATFORM_TOKEN, type IdentityTestApp } from './identity-test-app';

/** Creating calls accept an Idempotency-Key: a retried request changes nothing. */
describe('identity: Idempotency-Key', () => {
  let identity: IdentityTestApp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  const count = async (table: string) =>
    Number(
      (
        await identity.app
          .get(DataSource)
          .query<{ n: string }[]>(`SELECT count(*) AS n FROM ${table}`)
      )[0].n,
    );

  it('creates a department once for a retried request, and replays the first response', async () => {
    const corp = await identity.createCorp();
    const body = aDepartment().named('重试部').build();
    const send = () =>
      identity
        .http()
        .post('/v1/departments')
        .set('authorization', `Bearer ${corp.token}`)
        .set('idempotency-key', 'create-retry-1')
        .send(body);
    const first = await send().expect(201);
    const before = await count('departments');
    const again = await send().expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await count('departments')).toBe(before);
  });

  it('refuses the same key for a different request, and an invalid key', async () => {
    const corp = await identity.createCorp();
    const post = (key: string, name: string) =>
      identity
        .http()
        .post('/v1/departments')
        .set('authorization', `Bearer ${corp.token}`)
        .set('idempotency-key', key)
        .send(aDepartment().named(name).build());
    await post('k-2', 'A').expect(201);
    const reused = await post('k-2', 'B').expect(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const invalid = await post('x'.repeat(300), 'C').expect(400);
    expect(invalid.body.errors[0]).toMatchObject({
      field: 'Idempotency-Key',
      code: 'IDEMPOTENCY_KEY_INVALID',
    });
  });

  it('frees the key when the request is refused, so a corrected retry goes through', async () => {
    const corp = await identity.createCorp();
    const post = (name: string) =>
      identity
        .http()
        .post('/v1/departments')
        .set('authorization', `Bearer ${corp.token}`)
        .set('idempotency-key', 'k-3')
        .send(aDepartment().named(name).build());
    await post('a|b').expect(400);
    await post('fixed').expect(201);
  });

  it('scopes keys to the caller: another corp may use the same key', async () => {
    const a = await identity.createCorp();
    const b = await identity.createCorp();
    for (const corp of [a, b]) {
      await identity
        .http()
        .post('/v1/departments')
        .set('authorization', `Bearer ${corp.token}`)
        .set('idempotency-key', 'shared-key')
        .send(aDepartment().named('同名').build())
        .expect(201);
    }
  });

  it('creates a corp once when the platform operator retries', async () => {
    const body = { name: '幂等公司', admin: { userid: 'admin', name: '管理员' } };
    const send = () =>
      identity
        .http()
        .post('/v1/corps')
        .set('authorization', `Bearer ${PLATFORM_TOKEN}`)
        .set('idempotency-key', 'corp-1')
        .send(body);
    const first = await send().expect(201);
    const corps = await count('corps');
    const again = await send().expect(201);
    expect(again.body.corp.corpId).toBe(first.body.corp.corpId);
    expect(await count('corps')).toBe(corps);
  });
});
