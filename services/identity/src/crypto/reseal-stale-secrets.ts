import type { DataSource } from 'typeorm';
import type { SecretCipher } from './secret-cipher';

const BATCH = 500;

/**
 * Re-seals, with the current key-encryption key, every value of `table.column` sealed with an
 * older one (KEK rotation), in batches; replicas starting together skip each other's rows.
 * Run at start-up: a value no configured key opens stops the start (`ConfigurationError`).
 */
export async function resealStaleSecrets<Row extends Record<string, unknown>>(
  dataSource: DataSource,
  cipher: SecretCipher,
  spec: {
    table: string;
    column: string;
    keyColumns: (keyof Row & string)[];
    context: (row: Row) => string;
  },
): Promise<void> {
  const keys = spec.keyColumns.join(', ');
  const match = spec.keyColumns.map((column, i) => `${column} = $${i + 2}`).join(' AND ');
  for (;;) {
    const resealed = await dataSource.transaction(async (em) => {
      const rows = await em.query<(Row & { sealed: string })[]>(
        `SELECT ${keys}, ${spec.column} AS sealed FROM ${spec.table}
          WHERE left(${spec.column}, length($1)) <> $1 LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        [cipher.currentPrefix],
      );
      for (const row of rows) {
        await em.query(`UPDATE ${spec.table} SET ${spec.column} = $1 WHERE ${match}`, [
          cipher.reseal(row.sealed, spec.context(row)),
          ...spec.keyColumns.map((column) => row[column]),
        ]);
      }
      return rows.length;
    });
    if (resealed < BATCH) return;
  }
}
