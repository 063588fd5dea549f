import { randomBytes } from 'node:crypto';
import { generate } from 'otplib';
import { DataSource } from 'typeorm';
import { bootIdentity, type CreatedCorp, type IdentityTestApp } from './identity-test-app';

interface Session {
  accessToken: string;
  refreshToken: string;
  totpEnrollmentRequired?: boolean;
}

/** The TOTP second factor: enrolment, sign-in with a challenge, recovery codes, reset, policy. */
describe('identity: TOTP second factor', () => {
  let identity: IdentityTestApp;
  let corp: CreatedCorp;
  const PASSWORD = 'correct horse battery';
  beforeAll(async () => {
    identity = await bootIdentity({ SIGN_IN_MAX_FAILURES: '3' });
  });
  afterAll(() => identity.close());
  beforeEach(async () => {
    corp = await identity.createCorp();
    for (const userid of ['zhangsan', 'lisi']) {
      await identity
        .http()
        .post('/v1/members')
        .set(bearer(corp.token))
        .send({ userid, name: userid, departments: [{ id: 1 }] })
        .expect(201);
      await setPassword(userid);
    }
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const db = () => identity.app.get(DataSource);
  const setPassword = (userid: string, token = corp.token) =>
    identity
      .http()
      .put(`/v1/members/${userid}/password`)
      .set(bearer(token))
      .send({ password: PASSWORD })
      .expect(204);
  const signIn = (userid = 'zhangsan', corpId = corp.corpId) =>
    identity.http().post('/v1/auth/sign-in').send({ corpId, userid, password: PASSWORD });
  const secondFactor = (body: object) =>
    identity.http().post('/v1/auth/sign-in/second-factor').send(body);
  /** The code of the time step `offset` steps from now (the server accepts one either side). */
  const codeFor = (secret: string, offset = 0) =>
    generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
  /** A code no step in the window accepts. */
  const wrongCode = async (secret: string) => {
    const valid = await Promise.all([-1, 0, 1].map((offset) => codeFor(secret, offset)));
    let code = 0;
    while (valid.includes(String(code).padStart(6, '0'))) code++;
    return String(code).padStart(6, '0');
  };
  const session = async (userid = 'zhangsan') => (await signIn(userid).expect(200)).body as Session;
  const totp = (token: string) => ({
    status: () => identity.http().get('/v1/auth/totp').set(bearer(token)),
    enroll: () => identity.http().post('/v1/auth/totp').set(bearer(token)),
    activate: (code: string) =>
      identity.http().post('/v1/auth/totp/activate').set(bearer(token)).send({ code }),
    disable: (code: string) =>
      identity.http().post('/v1/auth/totp/disable').set(bearer(token)).send({ code }),
  });
  /** Enrols and activates `userid`'s TOTP with the code of the previous step. */
  const turnOn = async (userid = 'zhangsan', token?: string) => {
    const api = totp(token ?? (await session(userid)).accessToken);
    const { secret } = (await api.enroll().expect(201)).body as { secret: string };
    const { recoveryCodes } = (await api.activate(await codeFor(secret, -1)).expect(200)).body as {
      recoveryCodes: string[];
    };
    return { secret, recoveryCodes };
  };
  const challenge = async (userid = 'zhangsan') => {
    const body = (await signIn(userid).expect(200)).body as {
      secondFactorRequired: boolean;
      challenge: string;
      accessToken?: string;
    };
    expect(body).toMatchObject({ secondFactorRequired: true, challengeExpiresIn: 300 });
    expect(body.accessToken).toBeUndefined();
    return body.challenge;
  };
  const auditActions = async () =>
    (
      await db().query<{ action: string }[]>(
        'SELECT action FROM audit_log WHERE corp_id = $1 ORDER BY id',
        [corp.corpId],
      )
    ).map((r) => r.action);

  it('enrols, activates with a code, then signs in with password and code', async () => {
    const api = totp((await session()).accessToken);
    expect((await api.status().expect(200)).body).toEqual({
      state: 'off',
      activatedAt: null,
      recoveryCodesLeft: 0,
    });
    const enrolled = (await api.enroll().expect(201)).body as {
      secret: string;
      otpauthUri: string;
    };
    expect(enrolled.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolled.otpauthUri).toMatch(/^otpauth:\/\/totp\/Qiwei:zhangsan%40ww[0-9a-f]{16}\?/);
    expect(enrolled.otpauthUri).toContain(`secret=${enrolled.secret}`);
    expect((await api.status()).body.state).toBe('pending');
    // Pending: sign-in still takes the password alone.
    expect((await signIn().expect(200)).body.accessToken).toBeDefined();

    const [row] = await db().query<{ secret_sealed: string }[]>(
      'SELECT secret_sealed FROM member_totp WHERE corp_id = $1 AND userid = $2',
      [corp.corpId, 'zhangsan'],
    );
    expect(row.secret_sealed).toMatch(/^v1\.test\./);
    expect(row.secret_sealed).not.toContain(enrolled.secret);

    const activated = await api.activate(await codeFor(enrolled.secret, -1)).expect(200);
    expect(activated.body.recoveryCodes).toHaveLength(10);
    expect(activated.body.recoveryCodes[0]).toMatch(/^[0-9a-f]{5}(-[0-9a-f]{5}){3}$/);
    expect((await api.status()).body).toMatchObject({ state: 'active', recoveryCodesLeft: 10 });
    const stored = await db().query<{ code_hash: string }[]>(
      'SELECT code_hash FROM totp_recovery_codes WHERE corp_id = $1',
      [corp.corpId],
    );
    expect(stored.map((r) => r.code_hash).join()).not.toContain(
      activated.body.recoveryCodes[0].replace(/-/g, ''),
    );

    const done = await secondFactor({
      challenge: await challenge(),
      code: await codeFor(enrolled.secret),
    }).expect(200);
    await identity.http().get('/v1/auth/totp').set(bearer(done.body.accessToken)).expect(200);
    expect(await auditActions()).toEqual(
      expect.arrayContaining([
        'member.totp_enrolled',
        'member.totp_activated',
        'auth.second_factor_required',
        'auth.signed_in',
      ]),
    );
  });

  it('refuses replayed codes, reused, forged and expired challenges', async () => {
    const { secret } = await turnOn();
    const first = await challenge();
    const code = await codeFor(secret);
    await secondFactor({ challenge: first, code }).expect(200);
    // The same challenge again, and the same code on a new challenge.
    expect((await secondFactor({ challenge: first, code }).expect(401)).body.code).toBe(
      'SIGN_IN_CHALLENGE_INVALID',
    );
    const second = await challenge();
    expect((await secondFactor({ challenge: second, code }).expect(401)).body.code).toBe(
      'SECOND_FACTOR_FAILED',
    );
    // An older step than the last one used is a replay too.
    await secondFactor({ challenge: second, code: await codeFor(secret, -1) }).expect(401);
    const forged = randomBytes(32).toString('base64url');
    expect(
      (await secondFactor({ challenge: forged, code: await codeFor(secret, 1) }).expect(401)).body
        .code,
    ).toBe('SIGN_IN_CHALLENGE_INVALID');

    await setPassword('zhangsan'); // lifts the lock the failures above came close to
    const expiring = await challenge();
    await db().query(
      `UPDATE sign_in_challenges SET expires_at = now() - interval '1 second' WHERE corp_id = $1`,
      [corp.corpId],
    );
    expect(
      (await secondFactor({ challenge: expiring, code: await codeFor(secret, 1) }).expect(401)).body
        .code,
    ).toBe('SIGN_IN_CHALLENGE_EXPIRED');
  });

  it('counts wrong codes toward the lock-out, which a right password does not reset', async () => {
    const { secret } = await turnOn();
    const wrong = await wrongCode(secret);
    const kept = await challenge();
    // Each new challenge takes the right password; the failures still add up.
    await secondFactor({ challenge: await challenge(), code: wrong }).expect(401);
    await secondFactor({ challenge: await challenge(), code: wrong }).expect(401);
    await secondFactor({ challenge: kept, code: wrong }).expect(401);
    // Locked: the right code on an open challenge and the password are refused alike.
    const refused = await secondFactor({ challenge: kept, code: await codeFor(secret) });
    expect(refused.status).toBe(423);
    expect(refused.body.code).toBe('ACCOUNT_LOCKED');
    expect((await signIn().expect(423)).body.code).toBe('ACCOUNT_LOCKED');
    const actions = await auditActions();
    expect(actions.filter((a) => a === 'auth.second_factor_failed')).toHaveLength(3);
    expect(actions).toContain('auth.locked');
  });

  it('takes a recovery code once instead of a code', async () => {
    const { recoveryCodes } = await turnOn();
    const [code] = recoveryCodes;
    const done = await secondFactor({
      challenge: await challenge(),
      recoveryCode: code.toUpperCase(),
    }).expect(200);
    expect((await totp(done.body.accessToken).status()).body.recoveryCodesLeft).toBe(9);
    expect(
      (await secondFactor({ challenge: await challenge(), recoveryCode: code }).expect(401)).body
        .code,
    ).toBe('SECOND_FACTOR_FAILED');
  });

  it('refuses malformed second-factor requests and changes nothing', async () => {
    await turnOn();
    const c = await challenge();
    for (const body of [
      { challenge: c },
      { challenge: c, code: '123456', recoveryCode: '1a2b3-c4d5e-6f7a8-b9c0d' },
      { challenge: c, code: '12345a' },
      { challenge: c, code: '123456', extra: true },
      { challenge: 'short', code: '123456' },
      { challenge: c, recoveryCode: 'not-a-code' },
      { challenge: c, code: 123456 },
    ]) {
      expect((await secondFactor(body).expect(400)).body.code).toBe('VALIDATION_FAILED');
    }
    await secondFactor({ challenge: c, code: '1'.repeat(2_000_000) }).expect(413);
    const [member] = await db().query<{ failed_sign_ins: number }[]>(
      'SELECT failed_sign_ins FROM members WHERE corp_id = $1 AND userid = $2',
      [corp.corpId, 'zhangsan'],
    );
    expect(member.failed_sign_ins).toBe(0);
  });

  it('enrols and disables only with right codes, for the caller alone', async () => {
    const zhang = totp((await session('zhangsan')).accessToken);
    const li = totp((await session('lisi')).accessToken);
    expect((await zhang.activate('123456').expect(404)).body.code).toBe('TOTP_NOT_ENROLLED');
    const { secret } = (await zhang.enroll().expect(201)).body as { secret: string };
    await li.enroll().expect(201);
    // Another member's code does not activate lisi's TOTP, nor a wrong one zhangsan's.
    expect((await li.activate(await codeFor(secret, -1)).expect(403)).body.code).toBe(
      'TOTP_CODE_INVALID',
    );
    await zhang.activate(await wrongCode(secret)).expect(403);
    await zhang.activate(await codeFor(secret, -1)).expect(200);
    expect((await zhang.enroll().expect(409)).body.code).toBe('TOTP_ALREADY_ACTIVE');
    expect((await zhang.disable(await codeFor(secret, -1)).expect(403)).body.code).toBe(
      'TOTP_CODE_INVALID',
    ); // already used
    await zhang.disable(await codeFor(secret)).expect(204);
    expect((await zhang.status()).body.state).toBe('off');
    expect((await signIn().expect(200)).body.accessToken).toBeDefined();
    await identity.http().post('/v1/auth/totp').expect(401);
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['member.totp_code_failed', 'member.totp_disabled']),
    );
  });

  it('lets a super admin reset another member’s TOTP in their own corp only', async () => {
    await turnOn('zhangsan');
    const reset = (userid: string, token = corp.token) =>
      identity.http().delete(`/v1/members/${userid}/totp`).set(bearer(token));
    const member = await session('lisi');
    expect((await reset('zhangsan', member.accessToken).expect(403)).body.code).toBe(
      'ROLE_REQUIRED',
    );
    const other = await identity.createCorp();
    expect((await reset('zhangsan', other.token).expect(404)).body.code).toBe('MEMBER_NOT_FOUND');
    expect((await reset('admin').expect(403)).body.code).toBe('TOTP_RESET_OWN');
    expect((await reset('lisi').expect(404)).body.code).toBe('TOTP_NOT_ENROLLED');
    await identity.http().delete('/v1/members/zhangsan/totp').expect(401);
    await reset('zhangsan').expect(204);
    expect((await signIn().expect(200)).body.accessToken).toBeDefined();
    expect(await auditActions()).toContain('member.totp_reset');
  });

  it('can require TOTP for admins: until they turn it on they act as members', async () => {
    const policy = (token: string, requireForAdmins: unknown) =>
      identity
        .http()
        .put('/v1/corps/current/totp-policy')
        .set(bearer(token))
        .send({ requireForAdmins });
    // The admin turning it on needs TOTP first, so no corp locks its admins out.
    expect((await policy(corp.token, true).expect(409)).body.code).toBe('TOTP_REQUIRED_BY_POLICY');
    await turnOn('admin', corp.token);
    await policy(corp.token, 'yes').expect(400);
    await policy(corp.token, true).expect(200);
    expect(
      (await identity.http().get('/v1/corps/current/totp-policy').set(bearer(corp.token))).body,
    ).toEqual({ requireForAdmins: true });

    await db().query(
      `UPDATE members SET roles = '{super_admin}' WHERE corp_id = $1 AND userid = 'lisi'`,
      [corp.corpId],
    );
    const reduced = await session('lisi');
    expect(reduced.totpEnrollmentRequired).toBe(true);
    await identity
      .http()
      .post('/v1/departments')
      .set(bearer(reduced.accessToken))
      .send({ name: 'x', parentId: 1 })
      .expect(403);
    const { secret } = await turnOn('lisi', reduced.accessToken);
    const full = (
      await secondFactor({
        challenge: await challenge('lisi'),
        code: await codeFor(secret),
      }).expect(200)
    ).body as Session;
    expect(full.totpEnrollmentRequired).toBeUndefined();
    await identity
      .http()
      .post('/v1/departments')
      .set(bearer(full.accessToken))
      .send({ name: '部门', parentId: 1 })
      .expect(201);
    // Required: an admin cannot switch it off themselves.
    expect(
      (
        await totp(full.accessToken)
          .disable(await codeFor(secret, 1))
          .expect(409)
      ).body.code,
    ).toBe('TOTP_REQUIRED_BY_POLICY');
    expect(await auditActions()).toContain('corp.totp_policy_changed');
  });
});
