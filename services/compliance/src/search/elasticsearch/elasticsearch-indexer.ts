import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Client, estypes } from '@elastic/elasticsearch';
import { LOGGER, type Logger } from '@qiwei/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { recordOf, type ArchiveRecordRow } from '../../archive/archive-record';
import { searchableText } from '../../archive/searchable-text';
import { COMPLIANCE_CONFIG, type ComplianceConfig } from '../../config';
import { ELASTICSEARCH_CLIENT, ElasticsearchArchiveIndex } from './elasticsearch-archive-index';

/** The document of one record in the archive index. */
export interface ArchiveDocument {
  corp_id: string;
  chain_seq: number;
  kind: string;
  type: string;
  conversation_id: string;
  conversation_kind: string;
  sender: string;
  participants: string[];
  sender_departments: number[];
  has_attachment: boolean;
  sent_at: string;
  /** The record's searchable text (searchable-text.ts): what keywords and highlights see. */
  text: string;
}

interface QueuedRow extends ArchiveRecordRow {
  queued_corp_id: string;
  queued_chain_seq: string;
  op: 'index' | 'delete';
  attempts: number;
  department_ids: number[] | null;
}

export interface DrainResult {
  claimed: number;
  indexed: number;
  retrying: number;
  failed: number;
}

/** Rejections worth another try: throttling, timeouts, an unavailable shard or node. */
const RETRIABLE = new Set([408, 409, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 10 * 60 * 1000;
const backoffMs = (attempts: number) =>
  Math.min(1000 * 2 ** Math.min(attempts, 20), MAX_BACKOFF_MS);

/**
 * Drains `archive_index_queue` into Elasticsearch with the bulk API. Rows are claimed with
 * FOR UPDATE SKIP LOCKED (replicas share the work) in a transaction that commits the outcome
 * of every item: indexed → removed from the queue; rejected with a retriable status (429,
 * 5xx…) → tried again with exponential backoff, up to ELASTICSEARCH_MAX_ATTEMPTS; rejected
 * otherwise (a mapping error), or out of attempts → parked as failed with the reason, logged,
 * counted in `GET /v1/archive/index`, and queued again by `POST /v1/archive/index/retry`. A
 * failed bulk request as a whole (cluster down) counts as an attempt for every claimed row.
 * Documents are immutable and keyed `<corpId>:<chainSeq>`, so sending one twice is harmless.
 */
@Injectable()
export class ElasticsearchIndexer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private ensured = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ELASTICSEARCH_CLIENT) private readonly client: Client,
    private readonly index: ElasticsearchArchiveIndex,
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.client.close();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let idle = true;
      try {
        if (!this.ensured) {
          await this.index.ensureIndex();
          this.ensured = true;
        }
        const result = await this.drain();
        idle = result.claimed < this.config.ELASTICSEARCH_BULK_SIZE;
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.error({ err }, 'archive indexing failed; retrying');
      }
      if (idle || failures)
        await this.sleep(
          failures ? backoffMs(failures - 1) : this.config.ELASTICSEARCH_INDEX_INTERVAL_MS,
        );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(done, ms);
      this.wake = () => {
        clearTimeout(timer);
        done();
      };
    });
  }

  /** Sends one batch of due records; what became of them. */
  drain(): Promise<DrainResult> {
    return this.dataSource.transaction(async (em) => {
      const rows = await em.query<QueuedRow[]>(
        `WITH due AS (
           SELECT corp_id, chain_seq, op, attempts FROM archive_index_queue
            WHERE failed_at IS NULL AND next_attempt_at <= now()
            ORDER BY next_attempt_at, corp_id, chain_seq
            LIMIT $1 FOR UPDATE SKIP LOCKED)
         SELECT r.*, due.corp_id AS queued_corp_id, due.chain_seq AS queued_chain_seq, due.op,
                due.attempts, d.department_ids
           FROM due
           LEFT JOIN archive_records r ON r.corp_id = due.corp_id AND r.chain_seq = due.chain_seq
           LEFT JOIN archive_sender_departments d
             ON d.corp_id = due.corp_id AND d.chain_seq = due.chain_seq`,
        [this.config.ELASTICSEARCH_BULK_SIZE],
      );
      const result: DrainResult = { claimed: rows.length, indexed: 0, retrying: 0, failed: 0 };
      if (!rows.length) return result;
      const operations = rows.flatMap(
        (row): (estypes.BulkOperationContainer | ArchiveDocument)[] => {
          const target = {
            _index: this.index.names.alias,
            _id: `${row.queued_corp_id}:${row.queued_chain_seq}`,
            routing: row.queued_corp_id,
          };
          // Purged since it was queued, or queued for deletion: the document goes.
          if (row.op === 'delete' || row.chain_seq === null) return [{ delete: target }];
          const r = recordOf(row);
          const doc: ArchiveDocument = {
            corp_id: r.corpId,
            chain_seq: r.chainSeq,
            kind: r.kind,
            type: r.type,
            conversation_id: r.conversationId,
            conversation_kind: r.conversationKind,
            sender: r.sender,
            participants: r.participants,
            sender_departments: row.department_ids ?? [],
            has_attachment: r.media.length > 0,
            sent_at: r.sentAt.toISOString(),
            text: searchableText(r),
          };
          return [
            {
              index: {
                _index: this.index.names.alias,
                _id: `${r.corpId}:${r.chainSeq}`,
                routing: r.corpId,
              },
            },
            doc,
          ];
        },
      );
      let items: Partial<Record<estypes.BulkOperationType, estypes.BulkResponseItem>>[];
      try {
        items = (await this.client.bulk({ operations })).items;
      } catch (error) {
        // The request as a whole: every row is retried later (an attempt each).
        const reason = `bulk request failed: ${(error as Error).message}`.slice(0, 1000);
        for (const row of rows) await this.settle(em, row, 503, reason, result);
        return result;
      }
      for (let i = 0; i < rows.length; i++) {
        const item = items[i]?.index ?? items[i]?.delete;
        const status = item?.status ?? 500;
        const deleting = !!items[i]?.delete;
        // A document already gone is what a deletion wants.
        if ((status >= 200 && status < 300) || (deleting && status === 404)) {
          await em.query('DELETE FROM archive_index_queue WHERE corp_id = $1 AND chain_seq = $2', [
            rows[i].queued_corp_id,
            rows[i].queued_chain_seq,
          ]);
          result.indexed++;
        } else {
          const cause = item?.error;
          const reason = cause
            ? `${status} ${cause.type}: ${cause.reason ?? ''}`.slice(0, 1000)
            : `${status}: no answer for this item`;
          await this.settle(em, rows[i], status, reason, result);
        }
      }
      if (result.failed)
        this.logger.error(
          { failed: result.failed, retrying: result.retrying },
          'Elasticsearch rejected archive records; parked as failed (GET /v1/archive/index)',
        );
      return result;
    });
  }

  private async settle(
    em: EntityManager,
    row: QueuedRow,
    status: number,
    reason: string,
    result: DrainResult,
  ): Promise<void> {
    const attempts = row.attempts + 1;
    const parked = !RETRIABLE.has(status) || attempts >= this.config.ELASTICSEARCH_MAX_ATTEMPTS;
    await em.query(
      `UPDATE archive_index_queue
          SET attempts = $3, last_error = $4,
              next_attempt_at = now() + make_interval(secs => $5::double precision / 1000),
              failed_at = CASE WHEN $6 THEN now() END
        WHERE corp_id = $1 AND chain_seq = $2`,
      [row.queued_corp_id, row.queued_chain_seq, attempts, reason, backoffMs(attempts - 1), parked],
    );
    if (parked) result.failed++;
    else result.retrying++;
  }
}
