import { generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, JwtTokenVerifier } from '../src';

describe('auth: JwtTokenVerifier', () => {
  let privateKey: KeyLike;
  let publicKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    publicKey = pair.publicKey;
  });

  const sign = (sub: string, expiresInSeconds = 600, key = privateKey) =>
    new SignJWT({ corp_id: 'ww0123456789abcdef', roles: ['member'], iat_ms: Date.now() })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject(sub)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setJti(`jti-${sub}`)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
      .sign(key);

  /** A verifier whose key lookups are counted: a lookup is a signature verification. */
  const counting = (cache?: { maxEntries: number; maxAgeMs: number }) => {
    const state = { lookups: 0 };
    const verifier = new JwtTokenVerifier(() => {
      state.lookups++;
      return publicKey;
    }, cache);
    return { verifier, state };
  };

  it('verifies a signature once per token while cached, and hands out independent copies', async () => {
    const { verifier, state } = counting({ maxEntries: 10, maxAgeMs: 60_000 });
    const token = await sign('zhangsan');
    const first = await verifier.verify(token);
    first.roles.push('super_admin');
    const second = await verifier.verify(token);
    expect(second).toMatchObject({
      userId: 'zhangsan',
      corpId: 'ww0123456789abcdef',
      roles: ['member'],
    });
    expect(state.lookups).toBe(1);
  });

  it('checks the signature again after the cache age, and evicts the least recently used', async () => {
    const { verifier, state } = counting({ maxEntries: 2, maxAgeMs: 0 });
    const token = await sign('lisi');
    await verifier.verify(token);
    await verifier.verify(token);
    expect(state.lookups).toBe(2); // maxAgeMs 0: nothing is trusted from memory

    const lru = counting({ maxEntries: 2, maxAgeMs: 60_000 });
    const [a, b, c] = await Promise.all([sign('a'), sign('b'), sign('c')]);
    for (const t of [a, b, a, c]) await lru.verifier.verify(t); // c evicts b, not a
    expect(lru.state.lookups).toBe(3);
    await lru.verifier.verify(a);
    expect(lru.state.lookups).toBe(3);
    await lru.verifier.verify(b);
    expect(lru.state.lookups).toBe(4);
  });

  it('never caches a refusal: bad signatures and expired tokens are refused every time', async () => {
    const { verifier, state } = counting({ maxEntries: 10, maxAgeMs: 60_000 });
    const other = await generateKeyPair('ES256');
    const forged = await sign('mallory', 600, other.privateKey);
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const expired = await sign('wangwu', -10);
    for (let i = 0; i < 2; i++)
      await expect(verifier.verify(expired)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(state.lookups).toBe(4);
    await expect(verifier.verify('not-a-jwt')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('verifies every time without a cache', async () => {
    const { verifier, state } = counting();
    const token = await sign('zhaoliu');
    await verifier.verify(token);
    await verifier.verify(token);
    expect(state.lookups).toBe(2);
  });
});
