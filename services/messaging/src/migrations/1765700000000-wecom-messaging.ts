import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The WeCom-compatible messaging API: app chats (appchat/*: groups an app created, under the
 * app's chatid), the rest of WeCom's message bodies (text cards, video captions, the `safe`
 * flag), WeCom temporary media adopted as message media (once per media_id and app), app
 * messages that carry media, and recalled app messages.
 */
export class WecomMessaging1765700000000 implements MigrationInterface {
  name = 'WecomMessaging1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE app_chats (
        corp_id varchar(18) NOT NULL,
        chatid varchar(32) NOT NULL,
        conversation_id uuid NOT NULL,
        agentid int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (corp_id, chatid),
        FOREIGN KEY (corp_id, conversation_id) REFERENCES conversations (corp_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE UNIQUE INDEX app_chats_conversation_uq ON app_chats (corp_id, conversation_id)',
    );
    await q.query(`
      ALTER TABLE messages
        ADD COLUMN textcard jsonb,
        ADD COLUMN caption jsonb,
        ADD COLUMN safe boolean NOT NULL DEFAULT false`);
    await q.query('ALTER TABLE media_uploads ADD COLUMN wecom_media_id varchar(128)');
    await q.query(
      `CREATE UNIQUE INDEX media_uploads_wecom_uq ON media_uploads (corp_id, uploader, wecom_media_id)
        WHERE wecom_media_id IS NOT NULL`,
    );
    await q.query(
      'ALTER TABLE app_messages ADD COLUMN media_id uuid, ADD COLUMN recalled_at timestamptz',
    );
    await q.query(
      'CREATE INDEX app_messages_media_idx ON app_messages (corp_id, media_id) WHERE media_id IS NOT NULL',
    );
    await q.query('ALTER TABLE app_message_recipients ADD COLUMN recalled_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE app_message_recipients DROP COLUMN recalled_at');
    await q.query('DROP INDEX app_messages_media_idx');
    await q.query('ALTER TABLE app_messages DROP COLUMN media_id, DROP COLUMN recalled_at');
    await q.query('DROP INDEX media_uploads_wecom_uq');
    await q.query('ALTER TABLE media_uploads DROP COLUMN wecom_media_id');
    await q.query(
      'ALTER TABLE messages DROP COLUMN textcard, DROP COLUMN caption, DROP COLUMN safe',
    );
    await q.query('DROP TABLE app_chats');
  }
}
