import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

interface Session {
  accessToken: string;
  refreshToken: string;
}

/** A member changes their own password: every other session and token of theirs ends. */
describe('identity: changing one’s own password', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  const OLD = 'correct horse battery';
  const NEW = 'a brand new passphrase';
  beforeAll(async () => {
    identity = await bootIdentity({ SIGN_IN_MAX_FAILURES: '3' });
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
    await identity
      .http()
      .post('/v1/members')
      .set(bearer(corp.token))
      .send({ userid: 'zhangsan', name: '张三', departments: [{ id: 1 }] })
      .expect(201);
    await identity
      .http()
      .put('/v1/members/zhangsan/password')
      .set(bearer(corp.token))
      .send({ password: OLD })
      .expect(204);
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const signIn = (password: string) =>
    identity
      .http()
      .post('/v1/auth/sign-in')
      .send({ corpId: corp.corpId, userid: 'zhangsan', password });
  const change = (token: string, body: object) =>
    identity.http().post('/v1/auth/password').set(bearer(token)).send(body);
  const me = (token: string) => identity.http().get('/v1/members/zhangsan').set(bearer(token));
  const refresh = (refreshToken: string) =>
    identity.http().post('/v1/auth/refresh').send({ refreshToken });

  it('changes the password, ends the other sessions and answers with a new one', async () => {
    const other = (await signIn(OLD).expect(200)).body as Session;
    const current = (await signIn(OLD).expect(200)).body as Session;
    const renewed = (
      await change(current.accessToken, { currentPassword: OLD, newPassword: NEW }).expect(200)
    ).body as Session;
    expect(renewed).toMatchObject({ tokenType: 'Bearer', refreshToken: expect.any(String) });

    for (const old of [other, current]) {
      expect((await me(old.accessToken).expect(401)).body.code).toBe('TOKEN_REVOKED');
      await refresh(old.refreshToken).expect(401);
    }
    await me(renewed.accessToken).expect(200);
    await refresh(renewed.refreshToken).expect(200);
    expect((await signIn(OLD).expect(401)).body.code).toBe('SIGN_IN_FAILED');
    await signIn(NEW).expect(200);
    const audit = await identity
      .http()
      .get('/v1/audit-logs?action=member.password_changed')
      .set(bearer(corp.token))
      .expect(200);
    expect(audit.body.items[0]).toMatchObject({ actorId: 'zhangsan', targetId: 'zhangsan' });
  });

  it('counts a wrong current password toward the lock-out', async () => {
    const { accessToken } = (await signIn(OLD).expect(200)).body as Session;
    for (let i = 0; i < 2; i++) {
      const wrong = await change(accessToken, { currentPassword: 'not it', newPassword: NEW });
      expect(wrong.status).toBe(403);
      expect(wrong.body.code).toBe('PASSWORD_INCORRECT');
    }
    await signIn('still not it').expect(401); // the third failure, from sign-in, locks
    expect((await signIn(OLD).expect(423)).body.code).toBe('ACCOUNT_LOCKED');
    const locked = await change(accessToken, { currentPassword: OLD, newPassword: NEW });
    expect(locked.status).toBe(423);
  });

  it('refuses weak passwords, bad bodies and callers without a token, changing nothing', async () => {
    const { accessToken } = (await signIn(OLD).expect(200)).body as Session;
    expect(
      (await change(accessToken, { currentPassword: OLD, newPassword: 'short' }).expect(400)).body
        .code,
    ).toBe('PASSWORD_TOO_WEAK');
    const bad = await change(accessToken, { currentPassword: 1, newPassword: NEW, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['currentPassword', 'extra']),
    );
    await change(accessToken, { currentPassword: OLD, newPassword: 'x'.repeat(2_000_000) }).expect(
      413,
    );
    await identity
      .http()
      .post('/v1/auth/password')
      .send({ currentPassword: OLD, newPassword: NEW })
      .expect(401);
    await change('forged.token.value', { currentPassword: OLD, newPassword: NEW }).expect(401);
    await me(accessToken).expect(200); // nothing above ended the session
    await signIn(OLD).expect(200);
  });
});
