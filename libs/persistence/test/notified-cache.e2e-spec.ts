import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl, ensureDatabase, NotifiedCache } from '../src';

/** Polls until `check` passes (this library cannot use @qiwei/testing, which depends on it). */
async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Two caches on one database stand for two instances of a service: a change committed with a
 * notification is seen by both, whatever was cached, without waiting for the TTL.
 */
describe('persistence: NotifiedCache', () => {
  const server = process.env.QIWEI_TEST_PG_URL as string;
  const name = `qiwei_notified_cache_${randomBytes(4).toString('hex')}`;
  let url: string;
  let db: Client;
  const caches: NotifiedCache<string | null>[] = [];
  let loads = 0;

  const cache = async () => {
    const c = new NotifiedCache<string | null>({
      databaseUrl: url,
      channel: 'test_standing',
      ttlMs: 60_000, // far longer than any wait below: only notifications can refresh
      maxEntries: 100,
      reconnectDelayMs: 50,
      applicationName: 'notified-cache-test',
    });
    await c.start();
    caches.push(c);
    return c;
  };
  const read = (c: NotifiedCache<string | null>, key: string) =>
    c.get(key, async () => {
      loads++;
      const { rows } = await db.query<{ status: string }>(
        'SELECT status FROM standing WHERE key = $1',
        [key],
      );
      return rows[0]?.status ?? null;
    });
  const change = async (key: string, status: string) => {
    await db.query('BEGIN');
    await db.query(
      'INSERT INTO standing VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET status = $2',
      [key, status],
    );
    await db.query(`SELECT pg_notify('test_standing', $1)`, [key]);
    await db.query('COMMIT');
  };

  beforeAll(async () => {
    await ensureDatabase(server, name);
    url = databaseUrl(server, name);
    db = new Client({ connectionString: url });
    await db.connect();
    await db.query('CREATE TABLE standing (key text PRIMARY KEY, status text NOT NULL)');
  });
  afterAll(async () => {
    for (const c of caches) await c.stop();
    await db?.end();
  });

  it('serves repeated reads from memory and forgets a key in every instance once its change commits', async () => {
    // Written before the caches listen: no notification of it is on its way.
    await db.query(`INSERT INTO standing VALUES ('alice', 'active')`);
    const [a, b] = [await cache(), await cache()];
    expect(a.active && b.active).toBe(true);
    expect(await read(a, 'alice')).toBe('active');
    expect(await read(b, 'alice')).toBe('active');
    const before = loads;
    for (let i = 0; i < 5; i++) {
      expect(await read(a, 'alice')).toBe('active');
      expect(await read(b, 'alice')).toBe('active');
    }
    expect(loads).toBe(before); // no database reads

    await change('alice', 'disabled');
    await until(async () => (await read(a, 'alice')) === 'disabled');
    await until(async () => (await read(b, 'alice')) === 'disabled');
  });

  it('caches the absence of a row, and forgets it when the row appears', async () => {
    const [a] = caches;
    expect(await read(a, 'nobody')).toBeNull();
    await change('nobody', 'disabled');
    await until(async () => (await read(a, 'nobody')) === 'disabled');
  });

  it('does not keep a value read while a notification arrived', async () => {
    const [a] = caches;
    await change('bob', 'active');
    await until(async () => (await read(a, 'bob')) === 'active' && a.size >= 1);
    a.forget('bob');
    // A read that overlaps a change: it returns what it read, but must not keep it.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = a.get('bob', async () => {
      await gate;
      return 'stale';
    });
    await change('bob', 'disabled');
    // The notification reaches the cache while the slow read is still running.
    await new Promise((r) => setTimeout(r, 200));
    release();
    expect(await slow).toBe('stale');
    await until(async () => (await read(a, 'bob')) === 'disabled');
  });

  it('reads the database while its listening session is down, and forgets everything when it is back', async () => {
    const [a, b] = caches;
    await change('carol', 'active');
    await until(
      async () => (await read(a, 'carol')) === 'active' && (await read(b, 'carol')) === 'active',
    );
    // The listening sessions die; a change committed meanwhile notifies no one.
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'notified-cache-test' AND datname = current_database()`,
    );
    await db.query(`UPDATE standing SET status = 'left' WHERE key = 'carol'`);
    await until(async () => (await read(a, 'carol')) === 'left');
    await until(async () => (await read(b, 'carol')) === 'left');
    // Both listen again and cache again.
    await until(() => a.active && b.active);
    const before = loads;
    await read(a, 'carol');
    await read(a, 'carol');
    expect(loads - before).toBeLessThanOrEqual(1);
    expect(await read(a, 'carol')).toBe('left');
  });

  it('refuses a channel name that is not an identifier', () => {
    expect(
      () =>
        new NotifiedCache({
          databaseUrl: url,
          channel: 'x; DROP TABLE standing',
          ttlMs: 1,
          maxEntries: 1,
        }),
    ).toThrow('Not a channel name');
  });
});
