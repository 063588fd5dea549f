import type { PoolClient, QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { retryingSerializationFailures } from './transaction-runner';

/** A value that `sqlLiteral` writes into a statement. */
export type SqlValue = string | number | boolean | Date | null | readonly string[];

/**
 * A value `sqlLiteral` cannot write: text with a NUL character (the simple-query protocol ends
 * a statement at the first NUL). Callers fall back to parameters.
 */
export class SqlLiteralError extends Error {}

/**
 * Text as a string literal, exactly as pg's `escapeLiteral` writes it: quotes doubled, and an
 * E'' string (after a space) with doubled backslashes when there are any — correct whatever
 * standard_conforming_strings is. `escapeLiteral` builds the result a character at a time in
 * JavaScript; this does the same with native searches and replaces, which matters for the
 * kilobytes of an event payload written into every send's statement.
 */
export function quoteLiteral(value: string): string {
  const quoted = value.indexOf("'") === -1 ? value : value.replace(/'/g, "''");
  return value.indexOf('\\') === -1 ? `'${quoted}'` : ` E'${quoted.replace(/\\/g, '\\\\')}'`;
}

const text = (value: string): string => {
  if (value.indexOf('\u0000') !== -1) throw new SqlLiteralError('NUL in a literal');
  return quoteLiteral(value);
};

/**
 * A value written into a statement as a literal, for the statements a PipelinedTransaction
 * sends with BEGIN and COMMIT (which cannot carry parameters). Arrays become `text[]`, dates
 * `timestamptz`; JSON goes as text with a cast (`${sqlLiteral(JSON.stringify(v))}::jsonb`).
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SqlLiteralError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return `${text(value.toISOString())}::timestamptz`;
  if (Array.isArray(value)) {
    const items = (value as readonly string[]).map(
      (item) => `"${item.replace(/[\\"]/g, (c) => `\\${c}`)}"`,
    );
    return `${text(`{${items.join(',')}}`)}::text[]`;
  }
  return text(value as string);
}

/** One transaction, its first statement sent with BEGIN and its last with COMMIT. */
export interface Pipeline {
  /** `BEGIN; <statement>` in one round trip: the statement's rows. Called first, once. */
  begin<R>(statement: string): Promise<R[]>;
  /** `BEGIN; <statement 1>; <statement 2>…` in one round trip: each statement's rows. */
  beginAll(statements: string[]): Promise<unknown[][]>;
  /**
   * The transaction's connection for statements in between (with parameters, as usual).
   * Not for transaction control.
   */
  readonly manager: EntityManager;
  /** `<statements>; COMMIT` in one round trip. Called last, once; durable when it resolves. */
  commit(statements: string): Promise<void>;
}

/**
 * Runs `work` in one transaction whose first statement travels with BEGIN and whose last ones
 * travel with COMMIT (the simple-query protocol takes several statements at once), so a
 * transaction of N statements costs N - 2 round trips fewer than BEGIN, each statement, COMMIT.
 * Those statements carry their values as literals (`sqlLiteral`). Should anything fail, the
 * transaction is rolled back and the error rethrown; serialization failures and deadlocks are
 * retried a few times, like TransactionRunner.
 */
export async function pipelinedTransaction<T>(
  dataSource: DataSource,
  work: (pipeline: Pipeline) => Promise<T>,
  attempts = 3,
): Promise<T> {
  return retryingSerializationFailures(attempts, () => once(dataSource, work));
}

async function once<T>(dataSource: DataSource, work: (pipeline: Pipeline) => Promise<T>) {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let state = 'new' as 'new' | 'open' | 'committed';
  const pipeline: Pipeline = {
    manager: runner.manager,
    async begin<R>(statement: string): Promise<R[]> {
      return (await pipeline.beginAll([statement]))[0] as R[];
    },
    async beginAll(statements: string[]): Promise<unknown[][]> {
      if (state !== 'new') throw new Error('begin() opens the transaction, once');
      state = 'open';
      const results = (await client.query(
        ['BEGIN', ...statements].join(';\n'),
      )) as unknown as QueryResult<object>[];
      return results.slice(1).map((r) => r.rows);
    },
    async commit(statements: string): Promise<void> {
      if (state !== 'open') throw new Error('commit() needs the transaction begin() opened');
      await client.query(`${statements};\nCOMMIT`);
      state = 'committed';
    },
  };
  try {
    const result = await work(pipeline);
    if (state !== 'committed') throw new Error('a pipelined transaction must end with commit()');
    return result;
  } catch (error) {
    // After an error the rest of the statements sent with it never ran: the transaction is
    // aborted, or was never opened. A connection that cannot roll back is closed, so the pool
    // does not take it back (it would still be inside the transaction).
    if (state === 'open')
      await client.query('ROLLBACK').catch(() => void client.end().catch(() => undefined));
    throw error;
  } finally {
    await runner.release();
  }
}
