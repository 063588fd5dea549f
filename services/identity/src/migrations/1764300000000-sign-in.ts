import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Passwords (scrypt), lock-out after repeated failures, and rotating refresh tokens. */
export class SignIn1764300000000 implements MigrationInterface {
  name = 'SignIn1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE members
        ADD COLUMN password_hash text,
        ADD COLUMN failed_sign_ins int NOT NULL DEFAULT 0,
        ADD COLUMN locked_until timestamptz`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        family_id uuid NOT NULL,
        token_hash char(64) NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX refresh_tokens_member_idx ON refresh_tokens (corp_id, userid)');
    await q.query('CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE refresh_tokens');
    await q.query(
      'ALTER TABLE members DROP COLUMN locked_until, DROP COLUMN failed_sign_ins, DROP COLUMN password_hash',
    );
  }
}
