import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE corps (
        corp_id varchar(18) PRIMARY KEY,
        name varchar(64) NOT NULL,
        next_department_id int NOT NULL DEFAULT 2,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE departments (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        id int NOT NULL CHECK (id >= 1),
        parent_id int,
        name varchar(64) NOT NULL,
        "order" int NOT NULL DEFAULT 0,
        path text NOT NULL,
        depth int NOT NULL CHECK (depth >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, id),
        CONSTRAINT departments_parent_fk FOREIGN KEY (corp_id, parent_id)
          REFERENCES departments (corp_id, id) ON DELETE RESTRICT,
        CONSTRAINT departments_root_has_no_parent CHECK ((id = 1) = (parent_id IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX departments_sibling_name_uq ON departments (corp_id, parent_id, name)`,
    );
    await q.query(
      `CREATE INDEX departments_children_idx ON departments (corp_id, parent_id, "order" DESC, id)`,
    );
    await q.query(
      `CREATE INDEX departments_path_idx ON departments (corp_id, path text_pattern_ops)`,
    );
    await q.query(`
      CREATE TABLE members (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        userid varchar(64) NOT NULL,
        name varchar(64) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'active',
        roles text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, userid)
      )`);
    await q.query(`
      CREATE TABLE member_departments (
        corp_id varchar(18) NOT NULL,
        userid varchar(64) NOT NULL,
        department_id int NOT NULL,
        is_main boolean NOT NULL DEFAULT false,
        PRIMARY KEY (corp_id, userid, department_id),
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE,
        FOREIGN KEY (corp_id, department_id) REFERENCES departments (corp_id, id) ON DELETE RESTRICT
      )`);
    await q.query(
      `CREATE INDEX member_departments_department_idx ON member_departments (corp_id, department_id)`,
    );
    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        private_jwk jsonb NOT NULL,
        public_jwk jsonb NOT NULL,
        status varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX signing_keys_one_active_uq ON signing_keys (status) WHERE status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE signing_keys');
    await q.query('DROP TABLE member_departments');
    await q.query('DROP TABLE members');
    await q.query('DROP TABLE departments');
    await q.query('DROP TABLE corps');
  }
}
