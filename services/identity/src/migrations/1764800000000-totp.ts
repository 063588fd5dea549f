import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TOTP second factor: a member's secret (sealed with the key-encryption key; pending until
 * confirmed with a code), the last time step used (a code works once), hashed one-time
 * recovery codes, the short-lived challenges between password and code, and a corp's policy.
 */
export class Totp1764800000000 implements MigrationInterface {
  name = 'Totp1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member_totp (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        secret_sealed text NOT NULL,
        activated_at timestamptz,
        last_used_step bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, userid),
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE totp_recovery_codes (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        code_hash char(64) NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (corp_id, userid, code_hash),
        FOREIGN KEY (corp_id, userid) REFERENCES member_totp (corp_id, userid) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE sign_in_challenges (
        token_hash char(64) PRIMARY KEY,
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX sign_in_challenges_member_idx ON sign_in_challenges (corp_id, userid)',
    );
    await q.query('ALTER TABLE corps ADD COLUMN require_admin_totp boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE corps DROP COLUMN require_admin_totp');
    await q.query('DROP TABLE sign_in_challenges');
    await q.query('DROP TABLE totp_recovery_codes');
    await q.query('DROP TABLE member_totp');
  }
}
