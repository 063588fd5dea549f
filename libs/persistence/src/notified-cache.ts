import { Client } from 'pg';

export interface NotifiedCacheOptions {
  /** The database whose changes the cache follows (a session of its own LISTENs on it). */
  databaseUrl: string;
  /**
   * The channel writers notify on, in the transaction that changes what the cache holds
   * (typically from a trigger): the payload is the key to forget, `*` forgets everything.
   */
  channel: string;
  /** Safety net: an entry is read again after this long even if no notification came. */
  ttlMs: number;
  /** Most entries kept (the oldest go first). */
  maxEntries: number;
  /** Pause before reconnecting the listening session after it was lost. */
  reconnectDelayMs?: number;
  applicationName?: string;
  /** Told when the listening session is lost (the cache is bypassed until it is back). */
  onError?: (error: Error) => void;
}

const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * An in-process cache of per-request lookups (a member's standing, an app's) that every
 * instance of a service keeps consistent through PostgreSQL LISTEN/NOTIFY: whoever changes a
 * row notifies `channel` with its key in the same transaction, so every instance forgets it once
 * the change has committed, and the next request reads the new state.
 *
 * Correctness does not rest on timing:
 * - the cache is only used while the listening session is up; without it every call reads the
 *   database, and when the session is (re)established everything cached before is forgotten (a
 *   notification may have been missed meanwhile);
 * - a value read while any notification arrived (or the session changed) is returned but not
 *   kept: it may have been read just before the change committed;
 * - a notification is delivered only after its transaction committed, so a read started after
 *   it sees the change;
 * - entries expire after `ttlMs` regardless, should a writer ever forget to notify.
 */
export class NotifiedCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private session?: Client;
  private listening = false;
  private running = false;
  /** Bumped by every notification and session change: a read across one is not kept. */
  private epoch = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private connecting?: Promise<void>;

  constructor(private readonly options: NotifiedCacheOptions) {
    if (!CHANNEL_PATTERN.test(options.channel))
      throw new Error(`Not a channel name: ${options.channel}`);
  }

  /** Whether the cache is in use (its listening session is up). */
  get active(): boolean {
    return this.listening;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Starts listening; should the database be unreachable, keeps trying in the background. */
  async start(): Promise<void> {
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    await this.connecting;
    this.drop();
    const session = this.session;
    this.session = undefined;
    await session?.end().catch(() => undefined);
  }

  /** The cached value of `key`, or `load()`'s (kept when nothing changed while it ran). */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.listening) return load();
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.until > now) return hit.value;
      this.entries.delete(key);
    }
    const epoch = this.epoch;
    const value = await load();
    if (this.listening && epoch === this.epoch) {
      this.entries.set(key, { value, until: now + this.options.ttlMs });
      if (this.entries.size > this.options.maxEntries)
        this.entries.delete(this.entries.keys().next().value as string);
    }
    return value;
  }

  /** Forgets `key` in this instance (the others learn of changes through the channel). */
  forget(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }

  private drop(): void {
    this.listening = false;
    this.epoch++;
    this.entries.clear();
  }

  private connect(): Promise<void> {
    this.connecting ??= this.openSession().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async openSession(): Promise<void> {
    const session = new Client({
      connectionString: this.options.databaseUrl,
      application_name: this.options.applicationName ?? 'qiwei-notified-cache',
    });
    const lost = (error?: Error) => {
      if (this.session !== session) return;
      this.session = undefined;
      this.drop();
      if (error) this.options.onError?.(error);
      void session.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    session.on('notification', (message) => {
      if (message.channel !== this.options.channel) return;
      this.epoch++;
      if (!message.payload || message.payload === '*') this.entries.clear();
      else this.entries.delete(message.payload);
    });
    session.on('error', (error) => lost(error));
    session.on('end', () => lost(new Error('listening session ended')));
    try {
      await session.connect();
      await session.query(`LISTEN ${this.options.channel}`);
    } catch (error) {
      session.removeAllListeners('end');
      session.on('error', () => undefined);
      await session.end().catch(() => undefined);
      this.options.onError?.(error as Error);
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      await session.end().catch(() => undefined);
      return;
    }
    this.session = session;
    // Anything read before LISTEN took effect may have missed its notification.
    this.drop();
    this.listening = true;
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(
      () => void this.connect(),
      this.options.reconnectDelayMs ?? 1_000,
    );
    // Never what keeps a process alive.
    this.reconnectTimer.unref();
  }
}
