import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl, ensureDatabase } from '@qiwei/persistence';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.QIWEI_TEST_PG_URL;
  if (!url)
    throw new Error(
      'QIWEI_TEST_PG_URL is not set: run tests through jest (global setup starts PostgreSQL).',
    );
  return url;
}

/** A fresh, empty database of its own for one test file: files never see each other's rows. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `qiwei_${safeLabel}_${randomBytes(4).toString('hex')}`;
  const server = serverUrl();
  await ensureDatabase(server, name);
  return {
    name,
    url: databaseUrl(server, name),
    drop: async () => {
      const client = new Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
