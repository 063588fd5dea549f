import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

export const OUTBOX_CHANNEL = 'qiwei_outbox';
const WROTE_OUTBOX = 'qiweiWroteOutbox';

/**
 * Wakes outbox relays once a transaction that wrote to the outbox has committed: the relay in
 * this process at once, relays in other processes with a NOTIFY sent afterwards from a pooled
 * connection, coalesced (one in flight, at most one more queued, however many commits).
 *
 * Why not NOTIFY inside the writing transaction: PostgreSQL serialises the commits of every
 * transaction that issued NOTIFY on one database-wide lock, held across the commit's WAL
 * flush. Measured here, 16 writers drop from ~5,000 to ~1,600–1,950 commits/s with it.
 */
export class OutboxSignal {
  private readonly listeners = new Map<() => void, () => boolean>();
  private notifying = false;
  private again = false;

  constructor(private readonly dataSource: DataSource) {}

  /** Marks the transaction of `queryRunner` as one that wrote to the outbox. */
  static markWrote(queryRunner: QueryRunner): void {
    queryRunner.data = { ...(queryRunner.data as object), [WROTE_OUTBOX]: true };
  }

  /**
   * Calls `listener` after each such commit; returns the unsubscribe function. A listener whose
   * `coversAll` answers true (a relay holding every lane) makes the NOTIFY to other processes
   * unnecessary, and it is skipped.
   */
  listen(listener: () => void, coversAll: () => boolean = () => false): () => void {
    this.listeners.set(listener, coversAll);
    return () => this.listeners.delete(listener);
  }

  committed(): void {
    let coveredHere = false;
    for (const [listener, coversAll] of this.listeners) {
      listener();
      coveredHere ||= coversAll();
    }
    if (!coveredHere) void this.notifyOtherProcesses();
  }

  private async notifyOtherProcesses(): Promise<void> {
    if (this.notifying) {
      this.again = true;
      return;
    }
    this.notifying = true;
    try {
      do {
        this.again = false;
        await this.dataSource.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, '']);
      } while (this.again);
    } catch {
      // Relays also poll (OUTBOX_POLL_INTERVAL_MS): a lost wake-up only delays, never loses.
    } finally {
      this.notifying = false;
    }
  }
}

class OutboxCommitSubscriber implements EntitySubscriberInterface {
  constructor(private readonly signal: OutboxSignal) {}

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown> | undefined;
    // A savepoint's release is not the commit: wait for the outermost one.
    if (!data?.[WROTE_OUTBOX] || event.queryRunner.isTransactionActive) return;
    delete data[WROTE_OUTBOX];
    this.signal.committed();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const data = event.queryRunner.data as Record<string, unknown> | undefined;
    if (data && !event.queryRunner.isTransactionActive) delete data[WROTE_OUTBOX];
  }
}

const signals = new WeakMap<DataSource, OutboxSignal>();

/** The signal of a DataSource, registering its commit subscriber the first time. */
export function outboxSignalOf(dataSource: DataSource): OutboxSignal {
  let signal = signals.get(dataSource);
  if (!signal) {
    signal = new OutboxSignal(dataSource);
    signals.set(dataSource, signal);
    dataSource.subscribers.push(new OutboxCommitSubscriber(signal));
  }
  return signal;
}
