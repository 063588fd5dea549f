import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each member received from each app in its app chats (appchat/send), in fixed minute and
 * UTC-day windows: WeCom's limits per app and member in groups (200 a minute, 10,000 a day).
 */
export class AppChatSendCounters1765820000000 implements MigrationInterface {
  name = 'AppChatSendCounters1765820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE app_chat_send_counters (
        corp_id varchar(18) NOT NULL,
        agentid int NOT NULL,
        userid varchar(64) NOT NULL,
        minute_start timestamptz NOT NULL,
        minute_count int NOT NULL,
        day_start timestamptz NOT NULL,
        day_count int NOT NULL,
        PRIMARY KEY (corp_id, agentid, userid)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE app_chat_send_counters');
  }
}
