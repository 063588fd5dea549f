import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Media uploads (presigned to object storage, verified on completion) and media messages. */
export class MessagingMedia1765200000000 implements MigrationInterface {
  name = 'MessagingMedia1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE media_uploads (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        uploader varchar(64) NOT NULL,
        kind varchar(8) NOT NULL CHECK (kind IN ('image', 'voice', 'video', 'file')),
        filename varchar(255) NOT NULL,
        content_type varchar(127) NOT NULL,
        size bigint NOT NULL CHECK (size > 0),
        sha256 char(64) NOT NULL,
        object_key text NOT NULL,
        multipart_upload_id text,
        part_count int NOT NULL DEFAULT 1,
        status varchar(8) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready')),
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (corp_id, id)
      )`);
    await q.query('ALTER TABLE messages ADD COLUMN media_id uuid');
    await q.query(
      'CREATE INDEX messages_media_idx ON messages (corp_id, media_id) WHERE media_id IS NOT NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_media_idx');
    await q.query('ALTER TABLE messages DROP COLUMN media_id');
    await q.query('DROP TABLE media_uploads');
  }
}
