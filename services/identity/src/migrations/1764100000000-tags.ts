import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tags (标签): named sets of members and departments. */
export class Tags1764100000000 implements MigrationInterface {
  name = 'Tags1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE corps ADD COLUMN next_tag_id int NOT NULL DEFAULT 1`);
    await q.query(`
      CREATE TABLE tags (
        corp_id varchar(18) NOT NULL REFERENCES corps (corp_id),
        id int NOT NULL CHECK (id >= 1),
        name varchar(32) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, id),
        CONSTRAINT tags_name_uq UNIQUE (corp_id, name)
      )`);
    await q.query(`
      CREATE TABLE tag_members (
        corp_id varchar(18) NOT NULL,
        tag_id int NOT NULL,
        userid varchar(64) NOT NULL,
        PRIMARY KEY (corp_id, tag_id, userid),
        FOREIGN KEY (corp_id, tag_id) REFERENCES tags (corp_id, id) ON DELETE CASCADE,
        FOREIGN KEY (corp_id, userid) REFERENCES members (corp_id, userid) ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE tag_departments (
        corp_id varchar(18) NOT NULL,
        tag_id int NOT NULL,
        department_id int NOT NULL,
        PRIMARY KEY (corp_id, tag_id, department_id),
        FOREIGN KEY (corp_id, tag_id) REFERENCES tags (corp_id, id) ON DELETE CASCADE,
        FOREIGN KEY (corp_id, department_id) REFERENCES departments (corp_id, id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tag_departments');
    await q.query('DROP TABLE tag_members');
    await q.query('DROP TABLE tags');
    await q.query('ALTER TABLE corps DROP COLUMN next_tag_id');
  }
}
