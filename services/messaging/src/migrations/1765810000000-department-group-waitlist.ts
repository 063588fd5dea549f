import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Department groups at their member limit: the members of the subtree who could not join wait
 * for a seat, oldest first (they join as seats free up; they stop waiting when they leave the
 * subtree or the corp).
 */
export class DepartmentGroupWaitlist1765810000000 implements MigrationInterface {
  name = 'DepartmentGroupWaitlist1765810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE department_group_waitlist (
        corp_id varchar(18) NOT NULL,
        conversation_id uuid NOT NULL,
        userid varchar(64) NOT NULL,
        since timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, conversation_id, userid),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX department_group_waitlist_member_idx ON department_group_waitlist (corp_id, userid)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE department_group_waitlist');
  }
}
