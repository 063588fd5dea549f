import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '@qiwei/embedded-postgres';
import { freePort } from '../free-port';

declare global {
  var __QIWEI_TEST_POSTGRES__: RunningPostgres | undefined;
}

/**
 * One real PostgreSQL server for the whole jest run (each test file then makes its own
 * database on it). `DATABASE_URL` points the run at an existing server instead.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.QIWEI_TEST_PG_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'qiwei-test-pg-'));
  const postgres = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    persistent: false,
    fast: true,
  });
  globalThis.__QIWEI_TEST_POSTGRES__ = postgres;
  process.env.QIWEI_TEST_PG_URL = postgres.url;
}
