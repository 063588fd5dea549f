import { DataSource } from 'typeorm';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

describe('identity: sign-in, refresh tokens and lock-out', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  const PASSWORD = 'correct horse battery';
  beforeAll(async () => {
    identity = await bootIdentity({ SIGN_IN_MAX_FAILURES: '3', SIGN_IN_LOCK_MINUTES: '10' });
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
    await identity
      .http()
      .post('/v1/members')
      .set('authorization', `Bearer ${corp.token}`)
      .send({ userid: 'zhangsan', name: '张三', departments: [{ id: 1 }] })
      .expect(201);
    await setPassword('zhangsan', PASSWORD).expect(204);
  });

  const setPassword = (userid: string, password: string) =>
    identity
      .http()
      .put(`/v1/members/${userid}/password`)
      .set('authorization', `Bearer ${corp.token}`)
      .send({ password });
  const signIn = (password: string, userid = 'zhangsan', corpId = corp.corpId) =>
    identity.http().post('/v1/auth/sign-in').send({ corpId, userid, password });
  const refresh = (refreshToken: string) =>
    identity.http().post('/v1/auth/refresh').send({ refreshToken });

  it('signs a member in with a short-lived access token and a refresh token', async () => {
    const res = await signIn(PASSWORD).expect(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 7200,
      refreshExpiresIn: 30 * 86_400,
    });
    const me = await identity
      .http()
      .get('/v1/members/zhangsan')
      .set('authorization', `Bearer ${res.body.accessToken}`);
    expect(me.status).toBe(200);
    // Passwords are stored as scrypt hashes, never as given.
    const [row] = await identity.app
      .get(DataSource)
      .query<{ password_hash: string }[]>(
        'SELECT password_hash FROM members WHERE corp_id = $1 AND userid = $2',
        [corp.corpId, 'zhangsan'],
      );
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it('answers every kind of failure the same way, and refuses weak passwords and malformed input', async () => {
    for (const attempt of [
      signIn('wrong password!'),
      signIn(PASSWORD, 'nobody'),
      signIn(PASSWORD, 'admin'),
    ]) {
      const res = await attempt.expect(401);
      expect(res.body.code).toBe('SIGN_IN_FAILED');
    }
    const other = await identity.createCorp();
    expect((await signIn(PASSWORD, 'zhangsan', other.corpId).expect(401)).body.code).toBe(
      'SIGN_IN_FAILED',
    );
    for (const weak of ['short', 'aaaaaaaaaaaaaaa', 'x'.repeat(129)]) {
      expect((await setPassword('zhangsan', weak).expect(400)).body.code).toBe('PASSWORD_TOO_WEAK');
    }
    const bad = await identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: 'corp', userid: 'a b', extra: 1 })
      .expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['corpId', 'userid', 'password', 'extra']),
    );
    await setPassword('ghost', 'a long enough password').expect(404);
  });

  it('locks the account after repeated failures, and a new password lifts the lock', async () => {
    for (let i = 0; i < 3; i++) await signIn('wrong password!').expect(401);
    const locked = await signIn(PASSWORD).expect(423);
    expect(locked.body.code).toBe('ACCOUNT_LOCKED');
    await setPassword('zhangsan', 'a brand new password').expect(204);
    await signIn('a brand new password').expect(200);
  });

  it('rotates refresh tokens, and ends the session when one is used twice', async () => {
    const first = (await signIn(PASSWORD).expect(200)).body as { refreshToken: string };
    const second = (await refresh(first.refreshToken).expect(200)).body as {
      refreshToken: string;
      accessToken: string;
    };
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The first token again: theft assumed, the whole family ends (the newer token too).
    expect((await refresh(first.refreshToken).expect(401)).body.code).toBe('REFRESH_TOKEN_REUSED');
    expect((await refresh(second.refreshToken).expect(401)).body.code).toBe('REFRESH_TOKEN_REUSED');
    expect((await refresh('x'.repeat(43)).expect(401)).body.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('signs out, and ends sessions when the member is disabled or their password is reset', async () => {
    const a = (await signIn(PASSWORD).expect(200)).body as { refreshToken: string };
    await identity
      .http()
      .post('/v1/auth/sign-out')
      .send({ refreshToken: a.refreshToken })
      .expect(204);
    await refresh(a.refreshToken).expect(401);

    const b = (await signIn(PASSWORD).expect(200)).body as {
      refreshToken: string;
      accessToken: string;
    };
    await setPassword('zhangsan', 'another strong password').expect(204);
    await refresh(b.refreshToken).expect(401);
    // Access tokens end with it, at once.
    const revoked = await identity
      .http()
      .get('/v1/members/zhangsan')
      .set('authorization', `Bearer ${b.accessToken}`)
      .expect(401);
    expect(revoked.body.code).toBe('TOKEN_REVOKED');

    const c = (await signIn('another strong password').expect(200)).body as {
      refreshToken: string;
    };
    await identity
      .http()
      .post('/v1/members/zhangsan/disable')
      .set('authorization', `Bearer ${corp.token}`)
      .expect(200);
    await refresh(c.refreshToken).expect(401);
    expect((await signIn('another strong password').expect(401)).body.code).toBe('SIGN_IN_FAILED');
  });
});
