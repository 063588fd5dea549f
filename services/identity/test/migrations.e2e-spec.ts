import { createDataSource, runMigrations } from '@qiwei/persistence';
import { createTestDatabase, type TestDatabase } from '@qiwei/testing';
import { IDENTITY_ENTITIES, IDENTITY_MIGRATIONS } from '../src/identity.module';

describe('identity: migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('identity_migrations');
  });
  afterAll(() => database.drop());

  it('apply, revert and apply again; concurrent starts apply them once', async () => {
    const sources = [0, 1, 2].map(() =>
      createDataSource({
        url: database.url,
        applicationName: 'migration-test',
        entities: IDENTITY_ENTITIES,
        migrations: IDENTITY_MIGRATIONS,
      }),
    );
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      // Three replicas starting at once: the advisory lock lets one apply, the others see it done.
      const applied = await Promise.all(sources.map((s) => runMigrations(s)));
      const migrations = IDENTITY_MIGRATIONS.map((migration) => new migration().name);
      expect(applied.flat()).toEqual(migrations);
      const [ds] = sources;
      const tables = async () =>
        (
          await ds.query<{ tablename: string }[]>(
            `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`,
          )
        ).map((r) => r.tablename);
      const all = [
        'admin_scopes',
        'apps',
        'audit_log',
        'corps',
        'departments',
        'event_inbox',
        'event_outbox',
        'idempotency_keys',
        'member_departments',
        'member_import_rejections',
        'member_imports',
        'member_totp',
        'members',
        'refresh_tokens',
        'sign_in_challenges',
        'signing_keys',
        'tag_departments',
        'tag_members',
        'tags',
        'totp_recovery_codes',
        'wecom_batch_jobs',
        'wecom_batch_results',
      ];
      expect(await tables()).toEqual(all);
      // Every migration reverts cleanly, newest first, and applies again.
      for (let i = 0; i < migrations.length; i++)
        await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toEqual([]);
      expect(await runMigrations(ds)).toEqual(migrations);
      expect(await tables()).toEqual(all);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  });
});
