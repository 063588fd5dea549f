import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError } from '@qiwei/platform';
import { KEY_ENCRYPTION_KEY_VARIABLE, type KeyEncryptionKey } from './key-encryption-keys';

const VERSION = 'v1';
const IV_BYTES = 12;

/**
 * Seals secrets kept in identity's database (signing keys, TOTP secrets) with AES-256-GCM under
 * the configured key-encryption key. A sealed value reads `v1.<kek id>.<iv>.<ciphertext>.<tag>`
 * (base64url). The associated data binds it to the KEK id and to what it belongs to (`context`,
 * e.g. a corp and member), so a value copied onto another row does not open.
 */
export class SecretCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: KeyEncryptionKey;

  constructor(keys: KeyEncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretCipher needs at least one key');
    this.current = keys[0];
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  seal(plaintext: Buffer, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(associatedData(this.current.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, this.current.id, iv, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Opens a sealed value; a key that is not configured or does not fit is a configuration fault. */
  open(sealed: string, context: string): Buffer {
    const [version, kekId, iv, ciphertext, tag] = sealed.split('.');
    if (version !== VERSION || tag === undefined)
      throw new Error(`The secret of ${context} is not a sealed value`);
    const key = this.keys.get(kekId);
    if (!key)
      throw new ConfigurationError([
        {
          variable: KEY_ENCRYPTION_KEY_VARIABLE,
          message: `the secret of ${context} is sealed with key "${kekId}", which is not configured`,
        },
      ]);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(associatedData(kekId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]);
    } catch {
      throw new ConfigurationError([
        {
          variable: KEY_ENCRYPTION_KEY_VARIABLE,
          message: `key "${kekId}" does not open the secret of ${context} (a wrong key, or the stored value was altered)`,
        },
      ]);
    }
  }

  /** The prefix of values sealed with the current key (rotation re-seals the others). */
  get currentPrefix(): string {
    return `${VERSION}.${this.current.id}.`;
  }

  /** Opens a value sealed with any configured key and seals it again with the current one. */
  reseal(sealed: string, context: string): string {
    return this.seal(this.open(sealed, context), context);
  }
}

const associatedData = (kekId: string, context: string) =>
  Buffer.from(`qiwei-identity/${VERSION}/${kekId}/${context}`, 'utf8');
