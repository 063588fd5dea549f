// The ceiling for any durable send on this machine: a bare Fastify route that inserts one row
// per request in its own transaction. `npm run bench:messaging` runs it as its own process.
import Fastify from 'fastify';
import { Pool } from 'pg';

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS baseline_rows (id bigserial PRIMARY KEY, body jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())',
  );
  const app = Fastify();
  app.post('/insert', async (request) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(
        'INSERT INTO baseline_rows (body) VALUES ($1) RETURNING id',
        [JSON.stringify(request.body)],
      );
      await client.query('COMMIT');
      return { id: rows[0].id };
    } finally {
      client.release();
    }
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.on('SIGTERM', () => {
    void app.close().then(() => pool.end());
  });
}

void main();
