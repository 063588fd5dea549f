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
import { lockChainTip, moveChainTip } from '../chain/chain-tips';
import { linkHash } from '../chain/hash-chain';
import { Coverage } from '../coverage/coverage';
import { ARCHIVE_INDEX, type ArchiveIndex } from '../search/archive-index';
import {
  canonicalRecord,
  type ArchivedRecord,
  type NewArchiveRecord,
  type RecordMedia,
} from './archive-record';

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
    const tip = await lockChainTip(em, corpId, 'archive');
    const recordedAt = new Date();
    let { chainSeq, hash } = tip;
    const archived: ArchivedRecord[] = records.map((record) => {
      const linked = { ...record, chainSeq: chainSeq + 1, recordedAt, prevHash: hash };
      const own = linkHash(hash, canonicalRecord(linked));
      chainSeq = linked.chainSeq;
      hash = own;
      return { ...linked, hash: own };
    });
    await em.query(
      `INSERT INTO archive_records (corp_id, chain_seq, kind, event_id, message_id, pre_message_id,
         conversation_id, conversation_kind, sender, type, text, mentions, quote_seq, seq,
         participants, details, media, consent, sent_at, recorded_at, prev_hash, hash)
       SELECT corp_id, chain_seq, kind, event_id, message_id, pre_message_id, conversation_id,
              conversation_kind, sender, type, text, mentions, quote_seq, seq, participants, details,
              media, consent, sent_at, recorded_at, decode(prev_hash, 'hex'), decode(hash, 'hex')
         FROM jsonb_to_recordset($1::jsonb) AS x(corp_id text, chain_seq bigint, kind text,
           event_id text, message_id text, pre_message_id text, conversation_id uuid,
           conversation_kind text, sender text, type text, text text, mentions text[],
           quote_seq bigint, seq bigint, participants text[], details jsonb, media jsonb,
           consent text, sent_at timestamptz, recorded_at timestamptz, prev_hash text, hash text)`,
      [
        JSON.stringify(
          archived.map((r) => ({
            corp_id: r.corpId,
            chain_seq: r.chainSeq,
            kind: r.kind,
            event_id: r.eventId,
            message_id: r.messageId,
            pre_message_id: r.preMessageId,
            conversation_id: r.conversationId,
            conversation_kind: r.conversationKind,
            sender: r.sender,
            type: r.type,
            text: r.text,
            mentions: r.mentions,
            quote_seq: r.quoteSeq,
            seq: r.seq,
            participants: r.participants,
            details: r.details,
            media: r.media,
            consent: r.consent,
            sent_at: r.sentAt.toISOString(),
            recorded_at: r.recordedAt.toISOString(),
            prev_hash: r.prevHash.toString('hex'),
            hash: r.hash.toString('hex'),
          })),
        ),
      ],
    );
    // Coverage (the senders' departments) for every record, so search and exports are scoped;
    // every kind is indexed (media outcomes and tombstones too, found when a search names them).
    const covered = await this.coverage.record(em, corpId, archived);
    await this.index.index(em, covered);
    await moveChainTip(em, corpId, 'archive', { chainSeq, hash });
    await this.alerts.evaluate(em, corpId, covered);
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
