import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing keys' private halves sealed with the key-encryption key (`private_key_sealed`). Rows
 * from older versions keep their plaintext `private_jwk` until identity starts and seals them
 * (a migration has no key); each row holds exactly one of the two.
 */
export class SealedSigningKeys1764700000000 implements MigrationInterface {
  name = 'SealedSigningKeys1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE signing_keys
        ADD COLUMN private_key_sealed text,
        ALTER COLUMN private_jwk DROP NOT NULL,
        ADD CONSTRAINT signing_keys_one_private_key
          CHECK ((private_jwk IS NULL) <> (private_key_sealed IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // SQL cannot open sealed keys: they go, and the older version generates a new active key
    // (tokens they signed stop verifying, as after a key rotation).
    await q.query('DELETE FROM signing_keys WHERE private_jwk IS NULL');
    await q.query(`
      ALTER TABLE signing_keys
        DROP CONSTRAINT signing_keys_one_private_key,
        ALTER COLUMN private_jwk SET NOT NULL,
        DROP COLUMN private_key_sealed`);
  }
}
