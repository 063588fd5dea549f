import { SpanKind, trace, type Span } from '@opentelemetry/api';
import type { Logger } from '@qiwei/platform';
import type { Producer, TopicMessages } from 'kafkajs';
import { Client, Pool, type PoolClient, type QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import { HEADER } from '../cloud-event';
import { contextFromHeaders, replaceTraceHeaders, tracer } from '../tracing';
import { CoalescingSender } from './coalescing-sender';
import { OUTBOX_CHANNEL, outboxSignalOf } from './outbox-signal';

/**
 * What wakes a relay when this process commits an outbox write: the DataSource's commit signal
 * (inline), or the main thread's messages (a relay in a worker thread).
 */
export interface RelayWakeups {
  /** Calls `listener` after each commit; `coversAll` says whether NOTIFY can be skipped. */
  listen(listener: () => void, coversAll: () => boolean): () => void;
  /**
   * Called as the relay begins reading the outbox: every commit made before this is seen by
   * that read, so wake-ups sent for them until now can be forgotten.
   */
  reading?(): void;
}

/** Where the relay reports what it published (EventMetrics, or the worker's forwarder). */
export interface PublishObserver {
  /** `latencies`: seconds from each event's outbox write to its acknowledgement. */
  observePublished(topic: string, latencies: number[]): void;
}

/** The relay's log calls (a pino logger, or the worker's forwarder to the main thread's). */
export type RelayLogger = Pick<Logger, 'error' | 'warn' | 'info'>;

export interface OutboxRelayOptions {
  /** Connection URL of the service's database (the relay keeps one session for LISTEN and leases). */
  databaseUrl: string;
  lanes: number;
  batchSize: number;
  /** Fallback when a notification is missed (or the LISTEN connection is down). */
  pollIntervalMs: number;
  /** Published rows are deleted after this long. */
  pruneAfterMs: number;
  /** Pause after a failed publish before trying again. */
  retryBackoffMs: number;
  /**
   * How long a woken relay waits for more commits before it reads the outbox: under load, one
   * batch (one transaction, one produce request) then carries many events instead of one.
   */
  lingerMs: number;
}

export const DEFAULT_RELAY_OPTIONS: Omit<OutboxRelayOptions, 'databaseUrl'> = {
  lanes: 4,
  batchSize: 1_000,
  pollIntervalMs: 1_000,
  pruneAfterMs: 24 * 60 * 60 * 1000,
  retryBackoffMs: 500,
  lingerMs: 3,
};

// Advisory lock space of the outbox leases: (RELAY_LOCK_CLASS, lane).
const RELAY_LOCK_CLASS = 4_240_002;
// Advisory lock space of the per-batch lane locks (transaction scope).
const BATCH_LOCK_CLASS = 4_240_003;

/**
 * Settings of the relay's batch connections, which run nothing but the lane probe, the batch
 * read and the mark (all index lookups):
 * - no bitmap or sequential scans: an outbox with a day of published rows and stale (or no)
 *   statistics otherwise gets plans that read a lane's whole backlog, or the whole table, per
 *   batch of 1,000;
 * - `synchronous_commit = off` for the mark only: should PostgreSQL crash before the commit
 *   reaches disk, the batch is published again, which the at-least-once contract and the
 *   consumers' inbox already absorb. The events themselves are written by the services'
 *   transactions, with full durability.
 */
const RELAY_SESSION_SETTINGS = [
  '-c enable_bitmapscan=off',
  '-c enable_seqscan=off',
  '-c synchronous_commit=off',
  '-c default_transaction_isolation=read\\ committed',
].join(' ');

/** A lane batch ready to send, and what marking and metrics need once it is acknowledged. */
interface RelayBatch {
  topicMessages: TopicMessages[];
  spans: Span[];
  /** The rows' ids as a PostgreSQL array literal. */
  ids: string;
  createdMs: number[];
  topics: string[];
}

interface OutboxRow {
  lane: number;
  id: string;
  topic: string;
  partition_key: string;
  /** The CloudEvents headers as JSON text. */
  headers: string;
  payload: string;
  /** created_at in epoch milliseconds. */
  created_ms: number;
}

/**
 * Publishes the outbox to Kafka in order. Wakes on LISTEN/NOTIFY, polls as a fallback, sends
 * a lane's oldest rows as one batch through the idempotent producer (acks=all), and marks them
 * published in the same transaction that locked them. If it dies before marking, the rows are
 * sent again on restart: delivery is at least once, and consumers deduplicate.
 */
export class OutboxRelay {
  private session?: Client;
  private readonly heldLanes = new Set<number>();
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private unlisten?: () => void;
  private batchPool?: Pool;
  private pending = true;
  private lastPrune = 0;
  private readonly wakeups: RelayWakeups;
  /**
   * The lanes' batches go to Kafka through it: batches that wait for the producer's request in
   * flight go together (a catch-up after a stall drains several lanes' partial batches at once).
   */
  private readonly sender: CoalescingSender;
  /** Called whenever the set of held lanes changes (the worker mirrors it to the main thread). */
  onLanesChanged?: (lanes: number[]) => void;

  /**
   * `wakeups`: the service's DataSource (its commits wake the relay), or another source of
   * wake-ups (the worker's port). The relay's own queries go through its own connections.
   */
  constructor(
    wakeups: DataSource | RelayWakeups,
    producer: Producer,
    private readonly options: OutboxRelayOptions,
    private readonly logger: RelayLogger,
    private readonly metrics?: PublishObserver,
  ) {
    this.wakeups = 'listen' in wakeups ? wakeups : outboxSignalOf(wakeups);
    this.sender = new CoalescingSender(producer, options.batchSize);
  }

  /** Lanes this instance relays right now. */
  lanes(): number[] {
    return [...this.heldLanes].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.running = true;
    // Commits in this process wake the relay directly; other processes' through LISTEN.
    this.unlisten = this.wakeups.listen(
      () => {
        this.pending = true;
        this.wake?.();
      },
      // Holding every lane, this relay publishes whatever this process commits: no relay
      // elsewhere needs waking.
      () => this.heldLanes.size === this.options.lanes,
    );
    await this.connectSession();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.wake?.();
    await this.loop;
    await this.closeSession();
    await this.batchPool?.end();
    this.batchPool = undefined;
  }

  /** Publishes whatever is pending in the lanes this instance holds; resolves when drained. */
  async drainOnce(): Promise<number> {
    const held = this.lanes();
    if (held.length === 0) return 0;
    // First every held lane's oldest rows in one transaction (two round trips to PostgreSQL and
    // one produce request, however many lanes have something): what a wake-up finds under a
    // steady flow of sends. Then a lane that filled its share has a backlog: lanes are
    // independent (a key never changes lane), so those drain concurrently, each with full
    // batches one after another, as before.
    let first: { sent: number; full: number[] };
    try {
      first = await this.withBatchClient((client) => this.publishLanes(client, held));
    } catch (error) {
      if (held.length === 1) throw error;
      // The batch went back (rolled back): one lane's failure (a topic missing, a record too
      // large) must not hold the others, so each lane drains on its own, and a lane that fails
      // alone fails the round (logged, retried after the backoff) once the others are done.
      return this.drainEach(held);
    }
    const { sent, full } = first;
    return full.length === 0 ? sent : sent + (await this.drainEach(full));
  }

  /**
   * These lanes' backlogs, concurrently (lanes are independent: a key never changes lane). A
   * lane that fails does not stop the others; the first failure is thrown once all are done.
   */
  private async drainEach(lanes: number[]): Promise<number> {
    const drained = await Promise.allSettled(lanes.map((lane) => this.drainLane(lane)));
    let sent = 0;
    for (const result of drained) {
      if (result.status === 'rejected') throw result.reason;
      sent += result.value;
    }
    return sent;
  }

  /** A connection of the relay's own pool for `work`; rolled back (or dropped) if it fails. */
  private async withBatchClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool().connect();
    let broken: Error | undefined;
    try {
      return await work(client).catch(async (error: unknown) => {
        // A connection that cannot even roll back is not given back to the pool.
        await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
        throw error;
      });
    } finally {
      client.release(broken);
    }
  }

  /**
   * A lane's batches, one after another, on one connection of the relay's own pool: a batch
   * holds its connection while Kafka acknowledges, and must never take one the service's
   * requests need.
   */
  private async drainLane(lane: number): Promise<number> {
    return this.withBatchClient(async (client) => {
      let total = 0;
      for (;;) {
        const count = await this.publishBatch(client, lane);
        total += count;
        if (count < this.options.batchSize) return total;
      }
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.session) await this.connectSession();
        await this.acquireLanes();
        this.pending = false;
        this.wakeups.reading?.();
        await this.drainOnce();
        await this.pruneIfDue();
        if (!this.pending) await this.sleep(this.options.pollIntervalMs);
        if (this.pending && this.running && this.options.lingerMs > 0)
          await new Promise((resolve) => setTimeout(resolve, this.options.lingerMs));
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay: publish failed; will retry');
        await this.sleep(this.options.retryBackoffMs);
      }
    }
  }

  /**
   * A lane's batch of up to `batchSize` rows; resolves to how many it published (a full batch
   * means there may be more).
   */
  private async publishBatch(client: PoolClient, lane: number): Promise<number> {
    return (await this.publishLanes(client, [lane], this.options.batchSize)).sent;
  }

  /**
   * One batch in one transaction: the oldest unpublished rows of each of `lanes` (at most
   * `perLane` each), in two round trips to PostgreSQL besides Kafka's: the locks and the read
   * are sent with BEGIN, the mark with COMMIT (simple-query statements, so the values are
   * written into them: the lanes, the limits and the ids are integers this process produced,
   * never outside input). Resolves to how many rows it published and which lanes filled their
   * share (they may have more).
   */
  private async publishLanes(
    client: PoolClient,
    lanes: number[],
    perLane = Math.ceil(this.options.batchSize / lanes.length),
  ): Promise<{ sent: number; full: number[] }> {
    if (!lanes.every((lane) => Number.isSafeInteger(lane)) || !Number.isSafeInteger(perLane)) {
      throw new Error(
        `outbox relay: lanes ${lanes.join(',')} and batch size ${perLane} must be integers`,
      );
    }
    // One lock per lane and batch instead of a lock per row: should a lease change hands while
    // a batch is in flight, the next holder waits for it, then reads what it marked. Taken in
    // ascending lane order by every relay, so two relays never wait on each other in a cycle.
    // created_at as epoch milliseconds: it only feeds the latency metric, and a number is far
    // cheaper for the driver than a timestamp parsed into a Date per row.
    // `lane = ANY(…) ORDER BY lane, id` leaves the planner one way to return a lane's rows in
    // order without sorting: the pending index, read from the lane's oldest entry and stopped
    // at LIMIT. With `lane = $1 ORDER BY id`, once statistics count the day of published rows it
    // walked the primary key from the oldest published row instead (~100 ms a batch with 100k
    // of them), and without statistics it read and sorted the lane's whole backlog per batch.
    // Several lanes: one such scan per lane, merged in (lane, id) order. The relay's
    // connections also refuse bitmap and sequential scans (see pool()).
    const sorted = [...lanes].sort((x, y) => x - y);
    const laneRows = (lane: number) =>
      `SELECT lane, id, topic, partition_key, headers, payload,
              (extract(epoch FROM created_at) * 1000)::float8 AS created_ms
         FROM event_outbox
        WHERE lane = ANY(ARRAY[${lane}::smallint]) AND published_at IS NULL
        ORDER BY lane, id
        LIMIT ${perLane}`;
    const read =
      sorted.length === 1
        ? laneRows(sorted[0])
        : `SELECT * FROM (${sorted.map((lane) => `(${laneRows(lane)})`).join(' UNION ALL ')}) AS b
            ORDER BY lane, id`;
    const results = (await client.query(
      `BEGIN;
       ${sorted.map((lane) => `SELECT pg_advisory_xact_lock(${BATCH_LOCK_CLASS}, ${lane});`).join('\n')}
       ${read}`,
    )) as unknown as QueryResult<OutboxRow>[];
    const found = results[results.length - 1].rows;
    // Lanes whose lease was lost while waiting for their lock are left to their new holder.
    const rows = found.every((row) => this.heldLanes.has(row.lane))
      ? found
      : found.filter((row) => this.heldLanes.has(row.lane));
    if (rows.length === 0) {
      await client.query('ROLLBACK');
      return { sent: 0, full: [] };
    }
    const perLaneCount = new Map<number, number>();
    for (const row of rows) perLaneCount.set(row.lane, (perLaneCount.get(row.lane) ?? 0) + 1);
    const full = [...perLaneCount].filter(([, n]) => n >= perLane).map(([lane]) => lane);
    // The rows are not referenced past this point: their strings die young instead of being
    // copied by every garbage collection while Kafka acknowledges.
    const batch = this.toBatch(rows);
    try {
      await this.sender.send(batch.topicMessages);
    } catch (error) {
      for (const span of batch.spans) {
        span.recordException(error as Error);
        span.end();
      }
      throw error;
    }
    for (const span of batch.spans) span.end();
    await client.query(
      `UPDATE event_outbox SET published_at = clock_timestamp() WHERE id = ANY('${batch.ids}'::bigint[]);
       COMMIT`,
    );
    this.observePublished(batch);
    return { sent: batch.spans.length, full };
  }

  /**
   * One pass over a lane batch's rows: the headers are parsed once, the trace context written
   * with the event is extracted once, and it parents the publish span whose context goes on the
   * record.
   */
  private toBatch(rows: OutboxRow[]): RelayBatch {
    const spans: Span[] = new Array<Span>(rows.length);
    const createdMs: number[] = new Array<number>(rows.length);
    const topics: string[] = new Array<string>(rows.length);
    const byTopic = new Map<string, TopicMessages>();
    // The ids as one array literal: they are digits, so no per-element quoting and escaping as
    // the driver does for a JavaScript array.
    let ids = '{';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      ids += i === 0 ? row.id : `,${row.id}`;
      createdMs[i] = row.created_ms;
      topics[i] = row.topic;
      const headers = JSON.parse(row.headers) as Record<string, string>;
      const parent = contextFromHeaders(headers);
      const span = tracer.startSpan(`${row.topic} publish`, { kind: SpanKind.PRODUCER }, parent);
      // Attributes only for a span that records them (not built per row for nothing).
      if (span.isRecording()) {
        span.setAttributes({
          'messaging.system': 'kafka',
          'messaging.destination.name': row.topic,
          'messaging.message.id': headers[HEADER.id],
          'messaging.kafka.message.key': row.partition_key,
        });
      }
      spans[i] = span;
      let messages = byTopic.get(row.topic);
      if (!messages) {
        messages = { topic: row.topic, messages: [] };
        byTopic.set(row.topic, messages);
      }
      messages.messages.push({
        key: row.partition_key,
        // UTF-8 bytes outside the JavaScript heap rather than the row's string, which the
        // producer would encode anyway: the same work, done once, and nothing for the garbage
        // collector to copy while the batch is in flight.
        value: Buffer.from(row.payload),
        // The headers were parsed for this record alone: no copy needed.
        headers: replaceTraceHeaders(headers, trace.setSpan(parent, span)),
      });
    }
    return { topicMessages: [...byTopic.values()], spans, ids: `${ids}}`, createdMs, topics };
  }

  /** Publish counts and latencies: one label lookup per topic and batch, not per event. */
  private observePublished(batch: RelayBatch): void {
    const metrics = this.metrics;
    if (!metrics) return;
    const now = Date.now();
    let from = 0;
    for (let i = 1; i <= batch.topics.length; i++) {
      if (i < batch.topics.length && batch.topics[i] === batch.topics[from]) continue;
      const latencies = new Array<number>(i - from);
      for (let j = from; j < i; j++) latencies[j - from] = (now - batch.createdMs[j]) / 1000;
      metrics.observePublished(batch.topics[from], latencies);
      from = i;
    }
  }

  private pool(): Pool {
    if (!this.batchPool) {
      this.batchPool = new Pool({
        connectionString: this.options.databaseUrl,
        max: this.options.lanes,
        application_name: 'qiwei-outbox-relay',
        options: RELAY_SESSION_SETTINGS,
      });
      // An idle connection the server closed (restart, failover): the pool replaces it.
      this.batchPool.on('error', (error) =>
        this.logger.warn({ err: error }, 'outbox relay: idle batch connection lost'),
      );
    }
    return this.batchPool;
  }

  /** Takes every lane no other relay holds (session advisory locks, released if we die). */
  private async acquireLanes(): Promise<void> {
    const session = this.session;
    if (!session || this.heldLanes.size === this.options.lanes) return;
    for (let lane = 0; lane < this.options.lanes; lane++) {
      if (this.heldLanes.has(lane)) continue;
      const { rows } = await session.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [RELAY_LOCK_CLASS, lane],
      );
      if (rows[0].locked) {
        this.heldLanes.add(lane);
        this.onLanesChanged?.(this.lanes());
      }
    }
  }

  private async connectSession(): Promise<void> {
    const session = new Client({
      connectionString: this.options.databaseUrl,
      application_name: 'qiwei-outbox-relay',
    });
    session.on('notification', () => {
      this.pending = true;
      this.wake?.();
    });
    session.on('error', (error) => {
      // The leases died with the session: stop relaying those lanes until they are re-acquired.
      this.logger.warn({ err: error }, 'outbox relay: database session lost');
      this.heldLanes.clear();
      this.onLanesChanged?.([]);
      if (this.session === session) this.session = undefined;
    });
    await session.connect();
    await session.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.session = session;
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (this.heldLanes.size > 0) {
      this.heldLanes.clear();
      this.onLanesChanged?.([]);
    }
    await session?.end().catch(() => undefined);
  }

  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPrune < Math.min(this.options.pruneAfterMs, 60_000)) return;
    this.lastPrune = Date.now();
    // On the relay's own connections (index scans only: the primary key from the oldest row).
    await this.pool().query(
      // Oldest rows first along the primary key: they are the published ones past retention.
      `DELETE FROM event_outbox WHERE id IN (
         SELECT id FROM event_outbox
          WHERE published_at IS NOT NULL AND published_at < clock_timestamp() - make_interval(secs => $1)
          ORDER BY id
          LIMIT 10000)`,
      [this.options.pruneAfterMs / 1000],
    );
  }

  /**
   * Waits `ms` or until woken. Once stopping it returns at once: `stop()` wakes only a sleep
   * already begun, so a loop that was busy when it was called must not start a new one.
   */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
