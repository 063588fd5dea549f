import { randomBytes } from 'node:crypto';
import { ConfigurationError, loadConfig } from '@qiwei/platform';
import { z } from 'zod';
import { keyEncryptionKeysSchema, type KeyEncryptionKey } from './key-encryption-keys';
import { SecretCipher } from './secret-cipher';

const kek = (id: string): KeyEncryptionKey => ({ id, key: randomBytes(32) });
const configOf = (value: string) =>
  loadConfig(z.object({ IDENTITY_KEY_ENCRYPTION_KEY: keyEncryptionKeysSchema }), {
    IDENTITY_KEY_ENCRYPTION_KEY: value,
  });
const configErrorOf = (run: () => unknown): ConfigurationError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
};

describe('SecretCipher', () => {
  const secret = Buffer.from('JBSWY3DPEHPK3PXP');

  it('seals with the current key, bound to its context, and never shows the plaintext', () => {
    const cipher = new SecretCipher([kek('k2'), kek('k1')]);
    const sealed = cipher.seal(secret, 'totp:ww0:alice');
    expect(sealed).toMatch(/^v1\.k2\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(secret.toString('base64url'));
    expect(cipher.seal(secret, 'totp:ww0:alice')).not.toBe(sealed); // a fresh IV each time
    expect(cipher.open(sealed, 'totp:ww0:alice')).toEqual(secret);
    // The same value moved onto another member's row does not open.
    expect(configErrorOf(() => cipher.open(sealed, 'totp:ww0:bob')).message).toContain(
      'IDENTITY_KEY_ENCRYPTION_KEY: key "k2" does not open the secret of totp:ww0:bob',
    );
  });

  it('opens values sealed with an older key and re-seals them with the current one', () => {
    const k1 = kek('k1');
    const old = new SecretCipher([k1]).seal(secret, 'signing_key:a');
    const rotated = new SecretCipher([kek('k2'), k1]);
    expect(old.startsWith(rotated.currentPrefix)).toBe(false);
    const resealed = rotated.reseal(old, 'signing_key:a');
    expect(resealed.startsWith(rotated.currentPrefix)).toBe(true);
    expect(rotated.open(resealed, 'signing_key:a')).toEqual(secret);
  });

  it('names the variable when the key that sealed a value is missing or wrong', () => {
    const sealed = new SecretCipher([kek('k1')]).seal(secret, 'signing_key:a');
    const missing = configErrorOf(() =>
      new SecretCipher([kek('k9')]).open(sealed, 'signing_key:a'),
    );
    expect(missing.problems).toEqual([
      {
        variable: 'IDENTITY_KEY_ENCRYPTION_KEY',
        message: 'the secret of signing_key:a is sealed with key "k1", which is not configured',
      },
    ]);
    const wrong = configErrorOf(() => new SecretCipher([kek('k1')]).open(sealed, 'signing_key:a'));
    expect(wrong.problems[0].variable).toBe('IDENTITY_KEY_ENCRYPTION_KEY');
  });
});

describe('IDENTITY_KEY_ENCRYPTION_KEY', () => {
  const b64 = () => randomBytes(32).toString('base64');

  it('reads one key or a list, the first being current', () => {
    const [a, b] = [b64(), b64()];
    const { IDENTITY_KEY_ENCRYPTION_KEY: keys } = configOf(`2025b:${a}, 2025a:${b}`);
    expect(keys.map((k) => k.id)).toEqual(['2025b', '2025a']);
    expect(keys[0].key).toEqual(Buffer.from(a, 'base64'));
  });

  it('refuses keys that are not 32 bytes, have no id or repeat one, naming the variable', () => {
    for (const [value, message] of [
      [b64(), 'each key is `<id>:<base64>`'],
      ['k1:c2hvcnQ=', 'key "k1" must be 32 random bytes in base64'],
      [`k1:${b64()},k1:${b64()}`, 'key id "k1" is listed twice'],
      [`bad id:${b64()}`, 'each key is `<id>:<base64>`'],
    ]) {
      const error = configErrorOf(() => configOf(value));
      expect(error.problems).toEqual([
        { variable: 'IDENTITY_KEY_ENCRYPTION_KEY', message: expect.stringContaining(message) },
      ]);
    }
    expect(configErrorOf(() => configOf('')).message).toContain(
      'IDENTITY_KEY_ENCRYPTION_KEY: is required but not set',
    );
  });
});
