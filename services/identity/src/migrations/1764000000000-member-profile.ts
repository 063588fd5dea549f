import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Members get their directory profile; memberships get an order and a leader flag. */
export class MemberProfile1764000000000 implements MigrationInterface {
  name = 'MemberProfile1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE members
        ADD COLUMN mobile varchar(20),
        ADD COLUMN email varchar(254),
        ADD COLUMN position varchar(128) NOT NULL DEFAULT '',
        ADD COLUMN gender varchar(8) NOT NULL DEFAULT 'unknown'
          CHECK (gender IN ('unknown', 'male', 'female')),
        ADD COLUMN main_department_id int NOT NULL DEFAULT 1,
        ADD COLUMN direct_leaders text[] NOT NULL DEFAULT '{}',
        ADD COLUMN joined_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN left_at timestamptz,
        ADD CONSTRAINT members_status_check CHECK (status IN ('active', 'disabled', 'inactive', 'left'))`);
    await q.query(
      `CREATE UNIQUE INDEX members_mobile_uq ON members (corp_id, mobile) WHERE mobile IS NOT NULL`,
    );
    await q.query(`
      ALTER TABLE member_departments
        ADD COLUMN "order" int NOT NULL DEFAULT 0,
        ADD COLUMN is_leader boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_departments DROP COLUMN is_leader, DROP COLUMN "order"`);
    await q.query('DROP INDEX members_mobile_uq');
    await q.query(`
      ALTER TABLE members
        DROP CONSTRAINT members_status_check,
        DROP COLUMN left_at, DROP COLUMN joined_at, DROP COLUMN direct_leaders,
        DROP COLUMN main_department_id, DROP COLUMN gender, DROP COLUMN position,
        DROP COLUMN email, DROP COLUMN mobile`);
  }
}
