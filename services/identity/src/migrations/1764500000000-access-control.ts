import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Department admins' scopes (department subtrees with permissions), department visibility, and
 * apps (自建应用) with their hashed secrets and visibility ranges.
 */
export class AccessControl1764500000000 implements MigrationInterface {
  name = 'AccessControl1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE admin_scopes (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        department_id int NOT NULL,
        permissions text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, userid, department_id),
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE,
        FOREIGN KEY (corp_id, department_id) REFERENCES departments (corp_id, id) ON DELETE RESTRICT
      )`);
    await q.query(
      'CREATE INDEX admin_scopes_department_idx ON admin_scopes (corp_id, department_id)',
    );
    await q.query(`
      ALTER TABLE departments
        ADD COLUMN visibility varchar(16) NOT NULL DEFAULT 'public',
        ADD COLUMN visible_to_roles text[] NOT NULL DEFAULT '{}',
        ADD COLUMN visible_to_departments int[] NOT NULL DEFAULT '{}',
        ADD CONSTRAINT departments_visibility_ck CHECK (visibility IN ('public', 'hidden', 'restricted'))`);
    await q.query(
      `CREATE INDEX departments_non_public_idx ON departments (corp_id) WHERE visibility <> 'public'`,
    );
    await q.query('ALTER TABLE corps ADD COLUMN next_agentid int NOT NULL DEFAULT 1000002');
    await q.query(`
      CREATE TABLE apps (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        agentid int NOT NULL,
        name varchar(64) NOT NULL,
        description varchar(512) NOT NULL DEFAULT '',
        secret_hash bytea NOT NULL,
        range_departments int[] NOT NULL DEFAULT '{}',
        range_userids text[] NOT NULL DEFAULT '{}',
        range_tags int[] NOT NULL DEFAULT '{}',
        permissions text[] NOT NULL DEFAULT '{}',
        created_by varchar(64),
        tokens_valid_after timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, agentid)
      )`);
    await q.query('CREATE UNIQUE INDEX apps_secret_uq ON apps (corp_id, secret_hash)');
    await q.query('CREATE UNIQUE INDEX apps_name_uq ON apps (corp_id, name)');
    // Apps act too (token exchange, WeCom API calls): the audit log names them.
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check,
      ADD CONSTRAINT audit_log_actor_type_check
        CHECK (actor_type IN ('member', 'platform', 'anonymous', 'app'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check,
      ADD CONSTRAINT audit_log_actor_type_check
        CHECK (actor_type IN ('member', 'platform', 'anonymous'))`);
    await q.query('DROP TABLE apps');
    await q.query('ALTER TABLE corps DROP COLUMN next_agentid');
    await q.query('DROP INDEX departments_non_public_idx');
    await q.query(`ALTER TABLE departments DROP CONSTRAINT departments_visibility_ck,
      DROP COLUMN visibility, DROP COLUMN visible_to_roles, DROP COLUMN visible_to_departments`);
    await q.query('DROP TABLE admin_scopes');
  }
}
