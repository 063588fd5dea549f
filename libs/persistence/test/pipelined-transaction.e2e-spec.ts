import { randomBytes } from 'node:crypto';
import { escapeLiteral } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createDataSource,
  databaseUrl,
  ensureDatabase,
  pipelinedTransaction,
  quoteLiteral,
  SqlLiteralError,
  sqlLiteral,
} from '../src';

/** Against the real PostgreSQL of the test run (started by jest's global setup). */
describe('persistence: pipelinedTransaction and sqlLiteral', () => {
  const server = process.env.QIWEI_TEST_PG_URL as string;
  const name = `qiwei_pipelined_${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource;

  beforeAll(async () => {
    await ensureDatabase(server, name);
    dataSource = createDataSource({
      url: databaseUrl(server, name),
      applicationName: 'pipelined-test',
      entities: [],
      migrations: [],
      poolSize: 2,
    });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE t (n int PRIMARY KEY, s text, a text[], at timestamptz)');
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  const rows = () =>
    dataSource.query<{ n: number; s: string; a: string[]; at: Date }[]>(
      'SELECT * FROM t ORDER BY n',
    );

  it('writes any text, array and date as a literal that reads back the same', async () => {
    const texts = [
      `it's`,
      `back\\slash`,
      `\\' OR 1=1; --`,
      `"quoted" {braces}, commas`,
      `$1 $$ $tag$`,
      `中文 😀 \t\n\r`,
      '',
      'NULL',
    ];
    const at = new Date('2026-11-22T08:00:00.123Z');
    await pipelinedTransaction(dataSource, async (tx) => {
      await tx.begin('SELECT 1');
      await tx.commit(
        texts
          .map(
            (s, n) =>
              `INSERT INTO t VALUES (${sqlLiteral(n)}, ${sqlLiteral(s)}, ${sqlLiteral([s, `${s}"\\`, 'x'])}, ${sqlLiteral(at)})`,
          )
          .join(';\n'),
      );
    });
    const read = await rows();
    expect(read.map((r) => r.s)).toEqual(texts);
    expect(read.map((r) => r.a)).toEqual(texts.map((s) => [s, `${s}"\\`, 'x']));
    expect(read.every((r) => r.at.getTime() === at.getTime())).toBe(true);
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(true)).toBe('true');
    expect(() => sqlLiteral('a\u0000b')).toThrow(SqlLiteralError);
    expect(() => sqlLiteral(Number.NaN)).toThrow(SqlLiteralError);
    await dataSource.query('DELETE FROM t');
  });

  it('quotes text exactly as pg’s escapeLiteral does', () => {
    const samples = [
      '',
      'plain',
      `it's`,
      `''`,
      `back\\slash`,
      `\\`,
      `\\'`,
      `'\\'\\`,
      `中文 😀 \t\n\r`,
      '{"a":"it\'s \\"q\\" \\\\"}',
    ];
    // And pseudo-random strings (a fixed sequence) over the characters that matter.
    const alphabet = ["'", '\\', '"', 'a', ' ', '中', '\n'];
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2147483648) % alphabet.length;
    for (let i = 0; i < 500; i++)
      samples.push(Array.from({ length: i % 40 }, () => alphabet[next()]).join(''));
    for (const sample of samples) expect(quoteLiteral(sample)).toBe(escapeLiteral(sample));
  });

  it('answers the statement sent with BEGIN, and keeps nothing when a statement fails', async () => {
    const seen = await pipelinedTransaction(dataSource, async (tx) => {
      const [locked] = await tx.beginAll([
        `INSERT INTO t (n, s) VALUES (1, 'one')`,
        `SELECT count(*)::int AS n FROM t`,
      ]);
      expect(locked).toEqual([]);
      // In between: the same connection and transaction, with parameters.
      const [{ n }] = await tx.manager.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM t WHERE s = $1',
        ['one'],
      );
      await tx.commit(`INSERT INTO t (n, s) VALUES (2, 'two')`);
      return n;
    });
    expect(seen).toBe(1);
    expect((await rows()).map((r) => r.s)).toEqual(['one', 'two']);
    // A failure in the statements sent with COMMIT: the whole transaction is gone.
    await expect(
      pipelinedTransaction(dataSource, async (tx) => {
        await tx.begin(`INSERT INTO t (n, s) VALUES (3, 'three')`);
        await tx.commit(`INSERT INTO t (n, s) VALUES (1, 'duplicate')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    // A failure in between (after BEGIN): rolled back too.
    await expect(
      pipelinedTransaction(dataSource, async (tx) => {
        await tx.begin(`INSERT INTO t (n, s) VALUES (4, 'four')`);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    // Forgetting to commit is an error, and rolls back.
    await expect(
      pipelinedTransaction(dataSource, async (tx) => {
        await tx.begin(`INSERT INTO t (n, s) VALUES (5, 'five')`);
      }),
    ).rejects.toThrow('must end with commit()');
    expect((await rows()).map((r) => r.s)).toEqual(['one', 'two']);
    // The pool's connections came back clean (no transaction left open).
    const [{ open }] = await dataSource.query<{ open: number }[]>(
      `SELECT count(*)::int AS open FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(open).toBe(0);
  });
});
