import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * WeCom's template cards (text_notice, news_notice) as messages apps post into their chats
 * (app messages keep theirs in their `content`).
 */
export class TemplateCards1765830000000 implements MigrationInterface {
  name = 'TemplateCards1765830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN template_card jsonb');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN template_card');
  }
}
