import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tokens issued before this instant stop working (set when a member is disabled or leaves). */
export class TokenRevocation1764200000000 implements MigrationInterface {
  name = 'TokenRevocation1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE members ADD COLUMN tokens_valid_after timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE members DROP COLUMN tokens_valid_after');
  }
}
