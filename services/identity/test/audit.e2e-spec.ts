import { DataSource } from 'typeorm';
import { aDepartment } from './builders';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

interface Entry {
  action: string;
  actorType: string;
  actorId: string | null;
  targetType: string;
  targetId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ip: string | null;
}

describe('identity: audit log', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
  });

  const auth = () => ({ authorization: `Bearer ${corp.token}` });
  const entries = async (query = '') =>
    (await identity.http().get(`/v1/audit-logs${query}`).set(auth()).expect(200)).body as {
      items: Entry[];
      nextCursor: string | null;
    };

  it('records who did what to which target, with before and after, newest first', async () => {
    const dept = (
      await identity
        .http()
        .post('/v1/departments')
        .set(auth())
        .send(aDepartment().named('审计部').build())
        .expect(201)
    ).body as { id: number };
    await identity
      .http()
      .patch(`/v1/departments/${dept.id}`)
      .set(auth())
      .send({ name: '审计二部' })
      .expect(200);
    await identity
      .http()
      .post('/v1/members')
      .set(auth())
      .send({ userid: 'auditee', name: '被审计', departments: [{ id: dept.id }] })
      .expect(201);
    await identity
      .http()
      .put('/v1/members/auditee/password')
      .set(auth())
      .send({ password: 'a strong password' })
      .expect(204);
    await identity.http().post('/v1/members/auditee/disable').set(auth()).expect(200);

    const { items } = await entries();
    expect(items.map((e) => e.action)).toEqual([
      'member.disabled',
      'member.password_set',
      'member.created',
      'department.updated',
      'department.created',
      'corp.created',
    ]);
    const renamed = items[3];
    expect(renamed).toMatchObject({
      actorType: 'member',
      actorId: 'admin',
      targetType: 'department',
      targetId: String(dept.id),
    });
    expect(renamed.before).toMatchObject({ name: '审计部' });
    expect(renamed.after).toMatchObject({ name: '审计二部' });
    expect(renamed.ip).toEqual(expect.any(String));
    expect(items[0].before).toMatchObject({ status: 'active' });
    expect(items[0].after).toMatchObject({ member: { status: 'disabled' } });
    // Secrets never reach the log.
    expect(JSON.stringify(items)).not.toContain('a strong password');
    expect(items[5]).toMatchObject({ actorType: 'platform', action: 'corp.created' });
    expect(JSON.stringify(items[5].after)).not.toContain('accessToken');
  });

  it('records sign-ins and failed sign-ins, filters, paginates and exports CSV', async () => {
    await identity
      .http()
      .put('/v1/members/admin/password')
      .set(auth())
      .send({ password: 'admin password 1' })
      .expect(204);
    await identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: corp.corpId, userid: 'admin', password: 'nope' })
      .expect(401);
    await identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: corp.corpId, userid: 'admin', password: 'admin password 1' })
      .expect(200);
    await identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: 'ww0000000000000000', userid: 'admin', password: 'nope' })
      .expect(401);
    const stray = await identity.app
      .get(DataSource)
      .query<{ n: string }[]>(
        `SELECT count(*) AS n FROM audit_log WHERE corp_id = 'ww0000000000000000'`,
      );
    expect(Number(stray[0].n)).toBe(0); // made-up corps leave no trace
    const failed = await entries('?action=auth.sign_in_failed');
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({ targetId: 'admin', actorType: 'anonymous' });
    expect((await entries('?action=auth.signed_in')).items[0]).toMatchObject({
      actorType: 'member',
      actorId: 'admin',
    });

    const page1 = await entries('?limit=2');
    expect(page1.items).toHaveLength(2);
    const page2 = await entries(`?limit=2&cursor=${page1.nextCursor}`);
    expect(new Set([...page1.items, ...page2.items].map((e) => JSON.stringify(e))).size).toBe(4);

    const csv = await identity.http().get('/v1/audit-logs/export').set(auth()).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(lines[0]).toBe(
      'id,at,actorType,actorId,action,targetType,targetId,before,after,ip,requestId',
    );
    expect(lines.length).toBe(1 + (await entries('?limit=1000')).items.length);
    await identity.http().get('/v1/audit-logs?from=yesterday').set(auth()).expect(400);
    await identity.http().get('/v1/audit-logs?cursor=abc').set(auth()).expect(400);
  });

  it('is append-only in the database, shows a corp only its own entries, and only to super admins', async () => {
    const ds = identity.app.get(DataSource);
    await expect(ds.query('UPDATE audit_log SET action = $1', ['tampered'])).rejects.toThrow(
      /append-only/,
    );
    await expect(ds.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    const other = await identity.createCorp();
    const mine = await entries();
    // Only this corp's own creation, not the other's.
    const created = mine.items.filter((e) => e.action === 'corp.created');
    expect(created.map((e) => e.targetId)).toEqual([corp.corpId]);
    expect(other.corpId).not.toBe(corp.corpId);
    await identity
      .http()
      .post('/v1/members')
      .set(auth())
      .send({ userid: 'plain', name: '普通', departments: [{ id: 1 }] })
      .expect(201);
    await identity
      .http()
      .put('/v1/members/plain/password')
      .set(auth())
      .send({ password: 'plain password 12' })
      .expect(204);
    const session = await identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: corp.corpId, userid: 'plain', password: 'plain password 12' })
      .expect(200);
    const refused = await identity
      .http()
      .get('/v1/audit-logs')
      .set('authorization', `Bearer ${session.body.accessToken}`)
      .expect(403);
    expect(refused.body.code).toBe('ROLE_REQUIRED');
  });
});
