import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log: append-only at the database level (UPDATE and DELETE are refused). */
export class AuditLog1764400000000 implements MigrationInterface {
  name = 'AuditLog1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        corp_id varchar(18) NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_type varchar(16) NOT NULL CHECK (actor_type IN ('member', 'platform', 'anonymous')),
        actor_id varchar(64),
        action varchar(64) NOT NULL,
        target_type varchar(32) NOT NULL,
        target_id varchar(64) NOT NULL,
        before jsonb,
        after jsonb,
        ip varchar(64),
        request_id varchar(128)
      )`);
    await q.query('CREATE INDEX audit_log_corp_idx ON audit_log (corp_id, id)');
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
    await q.query('DROP FUNCTION audit_log_append_only()');
  }
}
