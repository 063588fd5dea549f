import { createHash, randomUUID } from 'node:crypto';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { bearer, eventually } from '@qiwei/testing';
import { ChainHeadSigner } from '../src/chain/chain-heads';
import { matterSearchFilters } from '../src/matters/matter-filter';
import { MediaArchiver } from '../src/media/media-archiver';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { sentEvent, sentRecord } from './support/events';

const DAY = 86_400_000;
const ago = (days: number, hour = 0) => new Date(Date.now() - days * DAY + hour * 3_600_000);
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** Retention policies, the purge with tombstones, and legal hold (matters). */
describe('compliance: retention and legal hold', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let officer: string;
  let member: string;
  let otherOfficer: string;
  let storage: ObjectStorage;
  const team = randomUUID(); // alice, bob: internal group
  const carolChat = randomUUID(); // alice, carol: single
  const client = randomUUID(); // alice and an external contact who agreed
  let mediaKey: string;

  beforeAll(async () => {
    compliance = await bootCompliance();
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    [officer, member, otherOfficer] = await Promise.all([
      corp.member('officer', ['compliance_officer']),
      corp.member('alice'),
      other.member('officer', ['compliance_officer']),
    ]);
    storage = new ObjectStorage(storageConfigSchema.parse(compliance.s3.env));
    await storage.ensureBucket('qiwei-messaging-media');
    const body = Buffer.from('old evidence 旧证据');
    const objectKey = `${corp.corpId}/old-file`;
    await storage.put('qiwei-messaging-media', objectKey, body, body.length);
    await as(officer).put('/v1/archive/consents/wm_client', { status: 'agree' }).expect(200);

    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      sentEvent(corp.corpId, team, 1, '去年的团队消息一', { at: ago(400, 1) }),
      sentEvent(corp.corpId, team, 2, 'last year, team two', { at: ago(400, 2) }),
      sentEvent(corp.corpId, carolChat, 1, '和卡罗尔的旧消息', {
        at: ago(400, 3),
        participants: ['alice', 'carol'],
        kind: 'single',
      }),
    ]);
    await compliance.publishRaw(
      MESSAGING_MESSAGE_TOPIC.name,
      sentRecord(corp.corpId, team, 3, '', {
        at: ago(400, 4),
        media: {
          mediaId: randomUUID(),
          bucket: 'qiwei-messaging-media',
          objectKey,
          size: body.length,
          sha256: sha256(body),
        },
      }),
    );
    await compliance.publishRaw(
      MESSAGING_MESSAGE_TOPIC.name,
      sentRecord(corp.corpId, client, 1, '客户去年的询价', {
        at: ago(400, 5),
        participants: ['alice', 'wm_client'],
        externalParticipants: ['wm_client'],
      }),
    );
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      sentEvent(corp.corpId, team, 4, 'this week', { at: ago(2) }),
      sentEvent(other.corpId, randomUUID(), 1, 'another corp, long ago', { at: ago(900) }),
    ]);
    // 6 messages and the media copy's record.
    await compliance.archived(corp.corpId, 7);
    await compliance.app.get(MediaArchiver).runOnce();
    const [copy] = await compliance
      .db()
      .query<{ archive_key: string; status: string }[]>(
        'SELECT archive_key, status FROM archive_media WHERE corp_id = $1',
        [corp.corpId],
      );
    expect(copy.status).toBe('archived');
    mediaKey = copy.archive_key;
    await compliance.app.get(ChainHeadSigner).signHeads();
  }, 180_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  const texts = async (conversation: string) =>
    (
      await compliance.db().query<{ text: string }[]>(
        `SELECT text FROM archive_records WHERE corp_id = $1 AND conversation_id = $2 AND kind = 'message'
            ORDER BY chain_seq`,
        [corp.corpId, conversation],
      )
    ).map((r) => r.text);
  const verify = async () => (await as(officer).get('/v1/archive/verify').expect(200)).body;

  it('sets retention policies (super admins), refusing officers, members and bad input', async () => {
    const refused = await as(officer).put('/v1/archive/retention/policies/default', {
      retainDays: 1,
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    for (const [path, body, status, code] of [
      ['/v1/archive/retention/policies/forever', { retainDays: 10 }, 400, 'VALIDATION_FAILED'],
      ['/v1/archive/retention/policies/default', { retainDays: 0 }, 400, 'VALIDATION_FAILED'],
      ['/v1/archive/retention/policies/default', { retainDays: '10' }, 400, 'VALIDATION_FAILED'],
      ['/v1/archive/retention/policies/default', { retainDays: 36501 }, 400, 'VALIDATION_FAILED'],
      ['/v1/archive/retention/policies/default', { retainDays: 1, x: 1 }, 400, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await as(corp.adminToken).put(path, body);
      expect([path, res.status, res.body.code]).toEqual([path, status, code]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const missing = await as(corp.adminToken).delete('/v1/archive/retention/policies/group');
    expect([missing.status, missing.body.code]).toEqual([404, 'RETENTION_POLICY_NOT_FOUND']);
    // Another corp's policy is its own: it purges nothing here.
    await as(other.adminToken)
      .put('/v1/archive/retention/policies/default', { retainDays: 1 })
      .expect(200);
    expect(
      (await as(officer).get('/v1/archive/retention/policies').expect(200)).body.items,
    ).toEqual([]);

    await as(corp.adminToken)
      .put('/v1/archive/retention/policies/default', { retainDays: 3650 })
      .expect(200);
    await as(corp.adminToken)
      .put('/v1/archive/retention/policies/internal', { retainDays: 365 })
      .expect(200);
    const external = await as(corp.adminToken)
      .put('/v1/archive/retention/policies/external', { retainDays: 1825 })
      .expect(200);
    expect(external.body).toMatchObject({
      scope: 'external',
      retainDays: 1825,
      updatedBy: 'admin',
    });
    const listed = await as(officer).get('/v1/archive/retention/policies').expect(200);
    expect(
      listed.body.items.map((p: { scope: string; retainDays: number }) => [p.scope, p.retainDays]),
    ).toEqual([
      ['default', 3650],
      ['internal', 365],
      ['external', 1825],
    ]);
    const log = await as(corp.adminToken)
      .get('/v1/archive/access-log?action=retention.policy_set&limit=1')
      .expect(200);
    expect(log.body.items[0].query).toEqual({
      scope: 'external',
      retainDays: 1825,
      previous: null,
    });
  });

  it('holds a custodian’s records under a matter, purges the rest with a tombstone, and still verifies', async () => {
    const matter = await as(officer)
      .post('/v1/archive/matters', {
        name: '卡罗尔调查',
        custodians: ['carol'],
        from: ago(500).toISOString(),
      })
      .expect(201);
    expect(matter.body).toMatchObject({ status: 'active', custodians: ['carol'], to: null });
    const detail = await as(officer).get(`/v1/archive/matters/${matter.body.id}`).expect(200);
    expect(detail.body.heldRecords).toBe(1);

    const purge = await as(corp.adminToken).post('/v1/archive/retention/purge').expect(200);
    // Team messages 1–3 and the media copy's record are past 365 days (internal); carol's is
    // held; the external contact's is kept 1825 days; this week's is young.
    expect(purge.body).toMatchObject({ purged: 4, tombstones: 1, held: 1, mediaRemoved: 1 });
    expect(await texts(team)).toEqual(['this week']);
    expect(await texts(carolChat)).toEqual(['和卡罗尔的旧消息']);
    expect(await texts(client)).toEqual(['客户去年的询价']);
    expect(await storage.stat('qiwei-compliance-archive', mediaKey)).toBeNull();
    const [tombstone] = await compliance
      .db()
      .query<{ type: string; details: { records: number; ranges: unknown[] } }[]>(
        `SELECT type, details FROM archive_records WHERE corp_id = $1 AND kind = 'tombstone'`,
        [corp.corpId],
      );
    expect(tombstone.type).toBe('retention.purge');
    expect(tombstone.details.records).toBe(4);
    // The purged records are gone from search too.
    const found = await as(officer)
      .post('/v1/archive/search', { conversationId: team })
      .expect(200);
    expect(found.body.items.map((i: { text: string }) => i.text)).toEqual(['this week']);

    const report = await verify();
    expect(report.ok).toBe(true);
    expect(report.archive).toMatchObject({ ok: true, purged: 4, firstBroken: null });
    expect(report.archive.storedHeadsChecked).toBeGreaterThanOrEqual(1);
    // Another corp's purge is its own.
    const [others] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM archive_records WHERE corp_id = $1', [
        other.corpId,
      ]);
    expect(Number(others.n)).toBe(1);
  });

  it('refuses a direct DELETE or UPDATE of archived records, also with the purge’s settings forged for a tombstone', async () => {
    const db = compliance.db();
    const [{ seq }] = await db.query<{ seq: string }[]>(
      'SELECT min(chain_seq) AS seq FROM archive_records WHERE corp_id = $1 AND kind = $2',
      [corp.corpId, 'message'],
    );
    await expect(
      db.query('DELETE FROM archive_records WHERE corp_id = $1 AND chain_seq = $2', [
        corp.corpId,
        seq,
      ]),
    ).rejects.toThrow(/append-only: DELETE refused/);
    await expect(
      db.transaction(async (em) => {
        await em.query(
          `SELECT set_config('qiwei.purge_corp', $1, true), set_config('qiwei.purge_before', $2, true)`,
          [corp.corpId, new Date().toISOString()],
        );
        await em.query(
          `UPDATE archive_records SET text = 'x' WHERE corp_id = $1 AND chain_seq = $2`,
          [corp.corpId, seq],
        );
      }),
    ).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(
      db.transaction(async (em) => {
        await em.query(
          `SELECT set_config('qiwei.purge_corp', $1, true), set_config('qiwei.purge_before', $2, true)`,
          [corp.corpId, new Date(Date.now() + DAY).toISOString()],
        );
        await em.query(`DELETE FROM archive_records WHERE corp_id = $1 AND kind = 'tombstone'`, [
          corp.corpId,
        ]);
      }),
    ).rejects.toThrow(/append-only: DELETE refused/);
    expect((await verify()).ok).toBe(true);
  });

  it('translates a matter into archive search filters that find exactly what it holds', async () => {
    const matter = await as(officer)
      .post('/v1/archive/matters', {
        name: 'client and carol',
        custodians: ['carol', 'wm_client'],
        to: new Date().toISOString(),
      })
      .expect(201);
    const filters = matterSearchFilters({
      custodians: matter.body.custodians,
      conversationIds: [],
      from: null,
      to: new Date(matter.body.to),
    });
    expect(filters).toHaveLength(2);
    const seqs = new Set<number>();
    for (const filter of filters) {
      const res = await as(officer)
        .post('/v1/archive/search', {
          participant: filter.participant,
          to: filter.to?.toISOString(),
          limit: 100,
        })
        .expect(200);
      for (const item of res.body.items) seqs.add(item.chainSeq);
    }
    const detail = await as(officer).get(`/v1/archive/matters/${matter.body.id}`).expect(200);
    expect(seqs.size).toBe(2);
    expect(detail.body.heldRecords).toBe(seqs.size);
  });

  it('releases a matter (recorded), after which its records follow retention again', async () => {
    const held = await as(officer).get('/v1/archive/matters?status=active').expect(200);
    expect(held.body.items).toHaveLength(2);
    for (const matter of held.body.items) {
      const released = await as(officer)
        .post(`/v1/archive/matters/${matter.id}/release`, { note: '结案 case closed' })
        .expect(200);
      expect(released.body).toMatchObject({
        status: 'released',
        releasedBy: 'officer',
        releaseNote: '结案 case closed',
      });
    }
    const again = await as(officer).post(`/v1/archive/matters/${held.body.items[0].id}/release`, {
      note: 'twice',
    });
    expect([again.status, again.body.code]).toEqual([409, 'MATTER_ALREADY_RELEASED']);
    const log = await as(corp.adminToken)
      .get('/v1/archive/access-log?action=matter.released')
      .expect(200);
    expect(log.body.items).toHaveLength(2);
    const created = await as(corp.adminToken)
      .get('/v1/archive/access-log?action=matter.created')
      .expect(200);
    expect(created.body.items[1].query).toMatchObject({
      name: '卡罗尔调查',
      custodians: ['carol'],
    });

    const purge = await as(corp.adminToken).post('/v1/archive/retention/purge').expect(200);
    expect(purge.body).toMatchObject({ purged: 1, tombstones: 1, held: 0 });
    expect(await texts(carolChat)).toEqual([]);
    expect(await texts(client)).toEqual(['客户去年的询价']);
    await compliance.app.get(ChainHeadSigner).signHeads();
    const report = await verify();
    expect(report.archive).toMatchObject({ ok: true, purged: 5, firstBroken: null });
    // Nothing more expired: a purge now changes nothing and leaves no tombstone.
    expect(
      (await as(corp.adminToken).post('/v1/archive/retention/purge').expect(200)).body,
    ).toMatchObject({ purged: 0, tombstones: 0 });
  });

  it('catches a purge faked in PostgreSQL: records deleted without a signed tombstone', async () => {
    const db = compliance.db();
    await db.query('ALTER TABLE archive_records DISABLE TRIGGER archive_records_append_only');
    try {
      await db.query(`DELETE FROM archive_records WHERE corp_id = $1 AND conversation_id = $2`, [
        corp.corpId,
        client,
      ]);
    } finally {
      await db.query('ALTER TABLE archive_records ENABLE TRIGGER archive_records_append_only');
    }
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.archive.firstBroken.reason).toMatch(/^record \d+ is missing$/);
  });

  it('answers bad, unauthorised and cross-tenant matter requests with problem+json, changing nothing', async () => {
    const [before] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM legal_matters');
    const cases: [object, number, string][] = [
      [{ name: 'everything' }, 422, 'MATTER_SCOPE_EMPTY'],
      [
        { name: 'x', from: ago(1).toISOString(), to: ago(2).toISOString() },
        422,
        'TIME_RANGE_INVALID',
      ],
      [{ name: 'x', conversationIds: ['abc'] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', custodians: ['a b'] }, 400, 'VALIDATION_FAILED'],
      [
        { name: 'x', custodians: Array.from({ length: 51 }, (_, i) => `u${i}`) },
        400,
        'VALIDATION_FAILED',
      ],
      [{ name: ' ', custodians: ['carol'] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', custodians: ['carol'], from: 'last year' }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x', custodians: ['carol'], extra: 1 }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x'.repeat(129), custodians: ['carol'] }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await as(officer).post('/v1/archive/matters', body);
      expect([body, res.status, res.body.code]).toEqual([body, status, code]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const refused = await as(member).post('/v1/archive/matters', { name: 'x', custodians: ['a'] });
    expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    expect((await compliance.http().get('/v1/archive/matters')).status).toBe(401);
    const purgeRefused = await as(officer).post('/v1/archive/retention/purge');
    expect([purgeRefused.status, purgeRefused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    // Another corp's matter does not exist here.
    const foreign = await as(otherOfficer)
      .post('/v1/archive/matters', { name: 'theirs', custodians: ['zed'] })
      .expect(201);
    for (const res of [
      await as(officer).get(`/v1/archive/matters/${foreign.body.id}`),
      await as(officer).post(`/v1/archive/matters/${foreign.body.id}/release`, { note: 'x' }),
    ])
      expect([res.status, res.body.code]).toEqual([404, 'MATTER_NOT_FOUND']);
    expect(
      (await as(officer).get('/v1/archive/matters').expect(200)).body.items.map(
        (m: { name: string }) => m.name,
      ),
    ).not.toContain('theirs');
    for (const [path, code] of [
      ['/v1/archive/matters/not-a-uuid', 'VALIDATION_FAILED'],
      ['/v1/archive/matters?status=open', 'VALIDATION_FAILED'],
      ['/v1/archive/matters?cursor=forged', 'INVALID_CURSOR'],
    ]) {
      const res = await as(officer).get(path);
      expect([path, res.status, res.body.code]).toEqual([path, 400, code]);
    }
    const noNote = await as(officer).post(`/v1/archive/matters/${randomUUID()}/release`, {});
    expect([noNote.status, noNote.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const paged = await as(officer).get('/v1/archive/matters?limit=1').expect(200);
    const next = await as(officer)
      .get(`/v1/archive/matters?limit=1&cursor=${paged.body.nextCursor}`)
      .expect(200);
    expect(next.body.items[0].id).not.toBe(paged.body.items[0].id);
    const [after] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM legal_matters');
    expect(Number(after.n)).toBe(Number(before.n) + 1);
    await eventually(async () => expect((await verify()).accessLog.ok).toBe(true));
  });
});
