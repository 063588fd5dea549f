import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { createDataSource, databaseUrl, ensureDatabase, TransactionRunner } from '../src';

/**
 * Against the real PostgreSQL of the test run (started by jest's global setup). The database is
 * made here rather than with @qiwei/testing, which itself depends on this library.
 */
describe('persistence: TransactionRunner', () => {
  const server = process.env.QIWEI_TEST_PG_URL as string;
  const db = { name: `qiwei_tx_runner_${randomBytes(4).toString('hex')}`, url: '' };
  let dataSource: DataSource;
  let runner: TransactionRunner;

  beforeAll(async () => {
    await ensureDatabase(server, db.name);
    db.url = databaseUrl(server, db.name);
    // A server whose default is stricter than the services are written for.
    const admin = createDataSource({
      url: db.url,
      applicationName: 't',
      entities: [],
      migrations: [],
    });
    await admin.initialize();
    await admin.query(
      `ALTER DATABASE "${db.name}" SET default_transaction_isolation = 'serializable'`,
    );
    await admin.destroy();
    dataSource = createDataSource({
      url: db.url,
      applicationName: 'tx-runner-test',
      entities: [],
      migrations: [],
    });
    await dataSource.initialize();
    runner = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    const admin = createDataSource({
      url: server,
      applicationName: 't',
      entities: [],
      migrations: [],
    });
    await admin.initialize();
    await admin.query(`DROP DATABASE "${db.name}"`);
    await admin.destroy();
  });

  const isolation = (em: {
    query: (sql: string) => Promise<{ transaction_isolation: string }[]>;
  }) => em.query('SHOW transaction_isolation').then((rows) => rows[0].transaction_isolation);

  it('runs in READ COMMITTED by default without a SET TRANSACTION, whatever the server default', async () => {
    const query = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    try {
      expect(await runner.run(isolation)).toBe('read committed');
      const statements = query.mock.calls.map(([sql]) => sql);
      expect(statements).toEqual(['START TRANSACTION', 'SHOW transaction_isolation', 'COMMIT']);
    } finally {
      query.mockRestore();
    }
  });

  it('sets a stricter level when asked, and retries serialization failures', async () => {
    expect(await runner.run(isolation, { isolation: 'SERIALIZABLE' })).toBe('serializable');
    let attempts = 0;
    const result = await runner.run(async () => {
      attempts++;
      if (attempts < 3) throw Object.assign(new Error('could not serialize'), { code: '40001' });
      return 'done';
    });
    expect({ result, attempts }).toEqual({ result: 'done', attempts: 3 });
    await expect(
      runner.run(async () => {
        throw Object.assign(new Error('unique'), { code: '23505' });
      }),
    ).rejects.toThrow('unique');
  });
});
