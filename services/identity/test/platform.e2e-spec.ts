import { eventually } from '@qiwei/testing';
import { Client } from 'pg';
import { bootIdentity, type IdentityTestApp } from './identity-test-app';

describe('identity: platform conventions', () => {
  let identity: IdentityTestApp;
  beforeAll(async () => {
    identity = await bootIdentity();
  });
  afterAll(() => identity.close());

  it('answers liveness, and readiness with the database check', async () => {
    expect((await identity.http().get('/health/live').expect(200)).body).toEqual({ status: 'ok' });
    const ready = await identity.http().get('/health/ready').expect(200);
    expect(ready.body).toEqual({
      status: 'ok',
      checks: { database: { status: 'up' }, kafka: { status: 'up' } },
    });
  });

  it('exposes Prometheus metrics with HTTP latency by route template', async () => {
    const corp = await identity.createCorp();
    await identity
      .http()
      .get('/v1/departments/1')
      .set('authorization', `Bearer ${corp.token}`)
      .expect(200);
    const res = await identity.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/v1\/departments\/:id",status_code="200"[^}]*\} 1/,
    );
  });

  it('publishes its OpenAPI document and UI', async () => {
    const doc = await identity.http().get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/corps',
        '/v1/departments',
        '/v1/departments/{id}',
        '/v1/departments/{id}/subtree',
      ]),
    );
    expect(doc.body.components.schemas.CreateDepartmentDto.required).toEqual(['name', 'parentId']);
    await identity.http().get('/docs').expect(200);
  });

  it('answers unknown routes with a 404 problem document', async () => {
    const res = await identity.http().get('/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      instance: '/v1/nothing-here',
    });
  });

  it('publishes the JWKS that verifies its tokens', async () => {
    const res = await identity.http().get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(res.body.keys[0].d).toBeUndefined();
  });

  it('reports not ready while the database refuses connections, and ready again after', async () => {
    const database = new URL(identity.databaseUrl).pathname.slice(1);
    const admin = new Client({ connectionString: process.env.QIWEI_TEST_PG_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false`);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
        [database],
      );
      const res = await identity.http().get('/health/ready').expect(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.checks.database.status).toBe('down');
      expect(res.body.checks.database.error).toEqual(expect.any(String));
    } finally {
      await admin.query(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await eventually(() => identity.http().get('/health/ready').expect(200));
  });
});
