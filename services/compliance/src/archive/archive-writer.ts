import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { CorpId } from '@qiwei/persistence';
import {
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { AlertsService } from '../alerts/alerts.service';
import { lockChainTip } from '../chain/chain-tips';
import { linkHash } from '../chain/hash-chain';
import { Coverage } from '../coverage/coverage';
import { ARCHIVE_INDEX, type ArchiveIndex, type IndexedRecord } from '../search/archive-index';
import {
  canonicalRecord,
  type ArchivedRecord,
  type NewArchiveRecord,
  type RecordMedia,
} from './archive-record';
import { pgIntArray, pgTextArray } from './pg-array';

/**
 * Appends records to each corp's hash chain. Records are collected over the consumer's
 * transaction (one chunk of up to 500 events) and written just before it commits: per corp, the
 * chain tip is locked once, the chunk is hashed in memory, inserted and indexed in one
 * statement each, and the alert rules run, all in that transaction. So the inbox, the records,
 * the index, the alerts and their events commit together or not at all, and concurrent chunks
 * of one corp (other partitions, other replicas) queue on the tip instead of forking the chain.
 */
@Injectable()
export class ArchiveWriter implements OnModuleInit {
  private readonly pending = new WeakMap<QueryRunner, NewArchiveRecord[]>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ARCHIVE_INDEX) private readonly index: ArchiveIndex,
    private readonly alerts: AlertsService,
    private readonly coverage: Coverage,
  ) {}

  onModuleInit(): void {
    this.dataSource.subscribers.push(new ArchiveFlushSubscriber(this));
  }

  /** Queues a record in the transaction of `em`; it is written when that transaction commits. */
  append(em: EntityManager, record: NewArchiveRecord): void {
    const runner = em.queryRunner;
    if (!runner?.isTransactionActive)
      throw new Error('ArchiveWriter.append needs the EntityManager of an open transaction');
    const queued = this.pending.get(runner);
    if (queued) queued.push(record);
    else this.pending.set(runner, [record]);
  }

  /** Writes what `runner`'s transaction queued (called just before it commits). */
  async flush(runner: QueryRunner): Promise<void> {
    const queued = this.pending.get(runner);
    this.pending.delete(runner);
    if (!queued?.length) return;
    const byCorp = new Map<CorpId, NewArchiveRecord[]>();
    for (const record of queued) {
      const list = byCorp.get(record.corpId);
      if (list) list.push(record);
      else byCorp.set(record.corpId, [record]);
    }
    // Corps in a fixed order: two chunks spanning the same corps never deadlock on their tips.
    for (const corpId of [...byCorp.keys()].sort()) {
      await this.appendChain(runner.manager, corpId, byCorp.get(corpId) as NewArchiveRecord[]);
    }
  }

  discard(runner: QueryRunner): void {
    this.pending.delete(runner);
  }

  /**
   * Appends records of one corp to its chain now, in `em`'s transaction (media outcomes,
   * tombstones): the same path as ingest, tip locked until that transaction ends.
   */
  appendNow(
    em: EntityManager,
    corpId: CorpId,
    records: NewArchiveRecord[],
  ): Promise<ArchivedRecord[]> {
    if (!em.queryRunner?.isTransactionActive)
      throw new Error('ArchiveWriter.appendNow needs the EntityManager of an open transaction');
    return this.appendChain(em, corpId, records);
  }

  private async appendChain(
    em: EntityManager,
    corpId: CorpId,
    records: NewArchiveRecord[],
  ): Promise<ArchivedRecord[]> {
    // First what needs no chain position, so the tip is held for as short a time as can be:
    // the senders' departments (coverage) and the alert rules' matches.
    const departments = await this.coverage.departmentsOf(
      em,
      corpId,
      records.map((r) => r.sender),
    );
    const matches = await this.alerts.match(em, corpId, records, departments);
    const tip = await lockChainTip(em, corpId, 'archive');
    const recordedAt = new Date();
    let { chainSeq, hash } = tip;
    const archived: IndexedRecord[] = records.map((record) => {
      const linked = { ...record, chainSeq: chainSeq + 1, recordedAt, prevHash: hash };
      const own = linkHash(hash, canonicalRecord(linked));
      chainSeq = linked.chainSeq;
      hash = own;
      return { ...linked, hash: own, senderDepartments: departments.get(record.sender) ?? [] };
    });
    // The records, their sender departments (coverage, for every kind, so exports are scoped
    // too) and the tip's move: one statement.
    await em.query(
      `WITH x AS (
         SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
                              $9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[],
                              $14::text[], $15::bigint[], $16::bigint[], $17::text[], $18::text[],
                              $19::text[], $20::text[], $21::timestamptz[], $22::bytea[],
                              $23::bytea[], $24::text[])
           AS x(chain_seq, kind, event_id, message_id, pre_message_id, conversation_id,
                conversation_kind, sender, type, text, mentions, quote_seq, seq, participants,
                details, media, consent, sent_at, prev_hash, hash, departments)
       ), records AS (
         INSERT INTO archive_records (corp_id, chain_seq, kind, event_id, message_id,
           pre_message_id, conversation_id, conversation_kind, sender, type, text, mentions,
           quote_seq, seq, participants, details, media, consent, sent_at, recorded_at, prev_hash,
           hash)
         SELECT $1, chain_seq, kind, event_id, message_id, pre_message_id, conversation_id,
                conversation_kind, sender, type, text, mentions::text[], quote_seq, seq,
                participants::text[], details::jsonb, media::jsonb, consent, sent_at, $2,
                prev_hash, hash
           FROM x
       ), departments AS (
         INSERT INTO archive_sender_departments (corp_id, chain_seq, department_ids)
         SELECT $1, chain_seq, departments::int[] FROM x
       )
       UPDATE chain_tips SET chain_seq = $3, hash = $25 WHERE corp_id = $1 AND chain = 'archive'`,
      [
        corpId,
        recordedAt,
        chainSeq,
        archived.map((r) => r.chainSeq),
        archived.map((r) => r.kind),
        archived.map((r) => r.eventId),
        archived.map((r) => r.messageId),
        archived.map((r) => r.preMessageId),
        archived.map((r) => r.conversationId),
        archived.map((r) => r.conversationKind),
        archived.map((r) => r.sender),
        archived.map((r) => r.type),
        archived.map((r) => r.text),
        archived.map((r) => pgTextArray(r.mentions)),
        archived.map((r) => r.quoteSeq),
        archived.map((r) => r.seq),
        archived.map((r) => pgTextArray(r.participants)),
        archived.map((r) => JSON.stringify(r.details)),
        archived.map((r) => JSON.stringify(r.media)),
        archived.map((r) => r.consent),
        archived.map((r) => r.sentAt.toISOString()),
        archived.map((r) => r.prevHash),
        archived.map((r) => r.hash),
        archived.map((r) => pgIntArray(r.senderDepartments)),
        hash,
      ],
    );
    // Every kind is indexed (media outcomes and tombstones too, found when a search names them).
    await this.index.index(em, archived);
    await this.alerts.raise(em, corpId, matches, archived);
    await this.queueMediaCopies(em, archived, recordedAt);
    return archived;
  }

  /** Each medium of a message record becomes a copy job (`MediaArchiver` does the copying). */
  private async queueMediaCopies(
    em: EntityManager,
    archived: ArchivedRecord[],
    at: Date,
  ): Promise<void> {
    const jobs = archived.flatMap((r) =>
      r.kind === 'message'
        ? (r.media as RecordMedia[]).map((m) => ({
            corp_id: r.corpId,
            record_seq: r.chainSeq,
            media_id: m.mediaId,
            message_id: r.messageId ?? '',
            source_bucket: m.sourceBucket,
            source_key: m.sourceKey,
            expected_size: m.size,
            expected_sha256: m.sha256,
            archive_bucket: m.archiveBucket,
            archive_key: m.archiveKey,
          }))
        : [],
    );
    if (!jobs.length) return;
    await em.query(
      `INSERT INTO archive_media (corp_id, record_seq, media_id, message_id, source_bucket,
         source_key, expected_size, expected_sha256, archive_bucket, archive_key, status,
         next_attempt_at, created_at, updated_at)
       SELECT corp_id, record_seq, media_id, message_id, source_bucket, source_key, expected_size,
              expected_sha256, archive_bucket, archive_key, 'pending', $2, $2, $2
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, record_seq bigint, media_id text,
           message_id text, source_bucket text, source_key text, expected_size bigint,
           expected_sha256 text, archive_bucket text, archive_key text)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(jobs), at],
    );
  }
}

class ArchiveFlushSubscriber implements EntitySubscriberInterface {
  constructor(private readonly writer: ArchiveWriter) {}

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    // Releasing a savepoint is not the commit: only the outermost transaction flushes.
    const depth = (event.queryRunner as unknown as { transactionDepth: number }).transactionDepth;
    if (depth > 1) return;
    await this.writer.flush(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.writer.discard(event.queryRunner);
  }
}
