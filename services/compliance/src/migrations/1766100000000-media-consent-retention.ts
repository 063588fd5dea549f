import type { MigrationInterface, QueryRunner } from 'typeorm';

const REFUSE_ALWAYS = `
  CREATE OR REPLACE FUNCTION compliance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END $$`;

/**
 * The archive's second part: copies of media in the archive's own bucket (`archive_media`, the
 * copy jobs and their outcome; the evidence is the chain record each outcome appends), signed
 * heads written to object storage (`chain_head_objects`), external contacts' archiving consent,
 * retention policies and legal matters. Records gain two kinds: `media` (a copy verified or a
 * fault) and `tombstone` (what a retention purge removed). The append-only trigger now lets one
 * thing through: the retention purge deleting, in its own transaction, records of the corp it
 * names that were sent before the cutoff it names — never a tombstone, never an UPDATE.
 */
export class MediaConsentRetention1766100000000 implements MigrationInterface {
  name = 'MediaConsentRetention1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE archive_records DROP CONSTRAINT archive_records_kind_check');
    await q.query(`
      ALTER TABLE archive_records ADD CONSTRAINT archive_records_kind_check
        CHECK (kind IN ('message', 'recall', 'conversation', 'media', 'tombstone'))`);
    await q.query(
      'CREATE INDEX archive_records_sent_idx ON archive_records (corp_id, sent_at, chain_seq)',
    );
    await q.query(`
      CREATE OR REPLACE FUNCTION compliance_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        purge_corp text := current_setting('qiwei.purge_corp', true);
        purge_before text := current_setting('qiwei.purge_before', true);
      BEGIN
        -- Nested: OLD only has these columns on archive_records (and no row on TRUNCATE).
        IF TG_TABLE_NAME = 'archive_records' AND TG_OP = 'DELETE'
           AND coalesce(purge_corp, '') <> '' AND coalesce(purge_before, '') <> '' THEN
          IF OLD.corp_id = purge_corp AND OLD.kind <> 'tombstone'
             AND OLD.sent_at < purge_before::timestamptz THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TABLE archive_media (
        corp_id varchar(18) NOT NULL,
        record_seq bigint NOT NULL,
        media_id varchar(64) NOT NULL,
        message_id varchar(64) NOT NULL,
        source_bucket varchar(63) NOT NULL,
        source_key varchar(1024) NOT NULL,
        expected_size bigint NOT NULL,
        expected_sha256 varchar(64) NOT NULL,
        archive_bucket varchar(63) NOT NULL,
        archive_key varchar(1024) NOT NULL,
        status varchar(8) NOT NULL
          CHECK (status IN ('pending', 'archived', 'fault', 'purging', 'purged')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error text,
        copied_size bigint,
        copied_sha256 varchar(64),
        result_seq bigint,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, record_seq, media_id)
      )`);
    await q.query(
      `CREATE INDEX archive_media_due_idx ON archive_media (next_attempt_at) WHERE status IN ('pending', 'purging')`,
    );
    await q.query(
      'CREATE INDEX archive_media_status_idx ON archive_media (corp_id, status, created_at DESC, record_seq DESC)',
    );
    await q.query(`
      CREATE TABLE chain_head_objects (
        corp_id varchar(18) NOT NULL,
        chain varchar(16) NOT NULL,
        chain_seq bigint NOT NULL,
        object_key varchar(256) NOT NULL,
        stored_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, chain, chain_seq)
      )`);
    // userid '' is the contact's consent towards every member of the corp.
    await q.query(`
      CREATE TABLE archive_consents (
        corp_id varchar(18) NOT NULL,
        external_userid varchar(64) NOT NULL,
        userid varchar(64) NOT NULL DEFAULT '',
        status varchar(16) NOT NULL CHECK (status IN ('agree', 'disagree', 'default_agree')),
        source varchar(8) NOT NULL CHECK (source IN ('api', 'event')),
        changed_by varchar(64) NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, external_userid, userid)
      )`);
    await q.query(`
      CREATE TABLE retention_policies (
        corp_id varchar(18) NOT NULL,
        scope varchar(16) NOT NULL
          CHECK (scope IN ('default', 'internal', 'external', 'single', 'group')),
        retain_days int NOT NULL CHECK (retain_days BETWEEN 1 AND 36500),
        updated_by varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (corp_id, scope)
      )`);
    await q.query(`
      CREATE TABLE legal_matters (
        corp_id varchar(18) NOT NULL,
        id uuid NOT NULL,
        name varchar(128) NOT NULL,
        description text NOT NULL DEFAULT '',
        custodians text[] NOT NULL DEFAULT '{}',
        conversation_ids uuid[] NOT NULL DEFAULT '{}',
        held_from timestamptz,
        held_to timestamptz,
        status varchar(8) NOT NULL CHECK (status IN ('active', 'released')),
        created_by varchar(64) NOT NULL,
        created_at timestamptz NOT NULL,
        released_by varchar(64),
        released_at timestamptz,
        release_note text,
        PRIMARY KEY (corp_id, id),
        CHECK (cardinality(custodians) > 0 OR cardinality(conversation_ids) > 0
               OR held_from IS NOT NULL OR held_to IS NOT NULL)
      )`);
    await q.query(
      'CREATE INDEX legal_matters_created_idx ON legal_matters (corp_id, created_at DESC, id DESC)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'legal_matters',
      'retention_policies',
      'archive_consents',
      'chain_head_objects',
      'archive_media',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(REFUSE_ALWAYS);
    await q.query('DROP INDEX archive_records_sent_idx');
    await q.query('ALTER TABLE archive_records DROP CONSTRAINT archive_records_kind_check');
    await q.query(`
      ALTER TABLE archive_records ADD CONSTRAINT archive_records_kind_check
        CHECK (kind IN ('message', 'recall', 'conversation')) NOT VALID`);
  }
}
