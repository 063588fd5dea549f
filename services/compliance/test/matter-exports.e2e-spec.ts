import { createHash, randomUUID } from 'node:crypto';
import { MESSAGING_CONVERSATION_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { bearer, eventually } from '@qiwei/testing';
import { canonicalJson, linkHash, type Canonical } from '../src/chain/hash-chain';
import { ExportWorker } from '../src/exports/export-worker';
import { HELD_KINDS, heldBy } from '../src/matters/matter-filter';
import { MediaArchiver } from '../src/media/media-archiver';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { appSentEvent, conversationCreatedEvent, recalledEvent, sentEvent } from './support/events';
import { unzip } from './support/zip';

const DAY = 86_400_000;
const ago = (days: number, hours = 0) => new Date(Date.now() - days * DAY + hours * 3_600_000);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Line = Record<string, Canonical> & { chainSeq: number; messageId: string | null };
interface Manifest {
  records: number;
  entries: { chainSeq: number; hash: string; media: { mediaId: string; status: string }[] }[];
  files: { name: string; sha256: string }[];
}

/**
 * Export of a legal matter (`POST /v1/archive/matters/{id}/exports`): the bundle holds exactly
 * what the matter holds, within the officer's coverage; and records a retention purge removed
 * show nothing anywhere (search, context view, alerts, exports), while the chain verifies.
 */
describe('compliance: export of a legal matter; purged records show nothing', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let sales: number;
  let officer: string;
  let salesOfficer: string;
  let member: string;
  let otherOfficer: string;
  let worker: ExportWorker;
  const A = randomUUID(); // group: alice, bob
  const B = randomUUID(); // single: alice, carol
  const C = randomUUID(); // group: bob, dave
  const D = randomUUID(); // group: dave, erin — 400 days old, purged
  const m = {
    a1: randomUUID(),
    a2: randomUUID(),
    a3: randomUUID(),
    b1: randomUUID(),
    b2: randomUUID(),
    c1: randomUUID(),
    c2: randomUUID(),
    appAlice: randomUUID(),
    appDave: randomUUID(),
    d1: randomUUID(),
    d2: randomUUID(),
  };
  const contract = Buffer.from('合同正文 contract bytes');
  const secretFile = Buffer.from('四百天前的秘密文件');
  const matters: Record<string, string> = {};
  let secretRule: string;

  beforeAll(async () => {
    compliance = await bootCompliance({
      env: { EXPORT_WORKERS: '0', EXPORT_CHUNK_SIZE: '3' },
    });
    worker = compliance.app.get(ExportWorker);
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    sales = await corp.department('销售部');
    [officer, salesOfficer, member, otherOfficer] = await Promise.all([
      corp.member('officer', ['compliance_officer']),
      corp.member('sales-officer', ['compliance_officer', 'department_admin'], {
        scopes: [sales],
      }),
      corp.member('alice'),
      other.member('officer', ['compliance_officer']),
      corp.member('bob', [], { departments: [sales] }),
      corp.member('carol'),
      corp.member('dave'),
    ]);
    secretRule = (
      await as(officer)
        .post('/v1/archive/alert-rules', { name: '秘密', kind: 'keyword', keywords: ['秘密'] })
        .expect(201)
    ).body.id as string;
    const storage = new ObjectStorage(storageConfigSchema.parse(compliance.s3.env));
    await storage.ensureBucket('qiwei-messaging-media');
    const medium = async (key: string, bytes: Buffer, filename: string) => {
      await storage.put('qiwei-messaging-media', key, bytes, bytes.length);
      return {
        mediaId: randomUUID(),
        kind: 'file',
        bucket: 'qiwei-messaging-media',
        objectKey: key,
        size: BigInt(bytes.length),
        sha256: sha256(bytes),
        filename,
        contentType: 'application/pdf',
      };
    };
    const file = await medium(`${corp.corpId}/contract`, contract, '合同.pdf');
    const secret = await medium(`${corp.corpId}/secret`, secretFile, '秘密.pdf');
    const ab = ['alice', 'bob'];
    await compliance.publish(MESSAGING_CONVERSATION_TOPIC, [
      conversationCreatedEvent(corp.corpId, {
        id: A,
        kind: 'group',
        name: '项目A',
        participants: ab,
        at: ago(11),
      }),
      conversationCreatedEvent(corp.corpId, {
        id: D,
        kind: 'group',
        name: '旧群',
        participants: ['dave', 'erin'],
        at: ago(401),
      }),
    ]);
    await compliance.archived(corp.corpId, 2);
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      sentEvent(corp.corpId, A, 1, '项目A：第一季度合同', { messageId: m.a1, at: ago(10) }),
      sentEvent(corp.corpId, A, 2, '', {
        messageId: m.a2,
        sender: 'bob',
        at: ago(9),
        content: { type: 'file', media: file },
      }),
      sentEvent(corp.corpId, A, 3, '说错了，撤回', { messageId: m.a3, at: ago(8) }),
      recalledEvent(corp.corpId, {
        conversationId: A,
        seq: 3,
        id: m.a3,
        sender: 'alice',
        at: ago(8, 1),
      }),
      sentEvent(corp.corpId, B, 1, '卡罗尔的问题', {
        messageId: m.b1,
        sender: 'carol',
        participants: ['alice', 'carol'],
        kind: 'single',
        at: ago(7),
      }),
      sentEvent(corp.corpId, B, 2, '爱丽丝的回答', {
        messageId: m.b2,
        participants: ['alice', 'carol'],
        kind: 'single',
        at: ago(6),
      }),
      sentEvent(corp.corpId, C, 1, '鲍勃对戴夫说', {
        messageId: m.c1,
        sender: 'bob',
        participants: ['bob', 'dave'],
        at: ago(5),
      }),
      sentEvent(corp.corpId, C, 2, '戴夫回鲍勃', {
        messageId: m.c2,
        sender: 'dave',
        participants: ['bob', 'dave'],
        at: ago(4),
      }),
      appSentEvent(corp.corpId, {
        msgid: m.appAlice,
        agentid: 1000002,
        recipients: ['alice', 'dave'],
        at: ago(3),
        content: { type: 'text', text: '审批已通过' },
      }),
      appSentEvent(corp.corpId, {
        msgid: m.appDave,
        agentid: 1000002,
        recipients: ['dave'],
        at: ago(3, 1),
        content: { type: 'text', text: '戴夫的审批' },
      }),
      sentEvent(corp.corpId, D, 1, '四百天前的秘密', {
        messageId: m.d1,
        sender: 'dave',
        participants: ['dave', 'erin'],
        at: ago(400),
      }),
      sentEvent(corp.corpId, D, 2, '', {
        messageId: m.d2,
        sender: 'dave',
        participants: ['dave', 'erin'],
        at: ago(400, 1),
        content: { type: 'file', media: secret },
      }),
    ]);
    // 2 conversation records, 11 messages and a recall; then the two media copies' records.
    await compliance.archived(corp.corpId, 14);
    await compliance.app.get(MediaArchiver).runOnce();
    await eventually(async () => {
      const n = await count(
        `SELECT count(*) AS n FROM archive_records WHERE corp_id = $1 AND kind = 'media'`,
      );
      if (n < 2) throw new Error(`${n} of 2 media records`);
    });
    const matter = async (name: string, scope: object) =>
      (matters[name] = (
        await as(officer)
          .post('/v1/archive/matters', { name, ...scope })
          .expect(201)
      ).body.id as string);
    await matter('alice', { custodians: ['alice'] });
    await matter('overlap', { custodians: ['alice', 'bob'], conversationIds: [A, C] });
    await matter('window', {
      conversationIds: [C],
      from: ago(4.5).toISOString(),
      to: ago(3.5).toISOString(),
    });
  }, 240_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  async function count(sql: string, params: unknown[] = [corp.corpId]): Promise<number> {
    const [row] = await compliance.db().query<{ n: string }[]>(sql, params);
    return Number(row.n);
  }
  /** What the matter holds, as retention sees it (the rule of `heldBy`), with coverage. */
  const held = async (matterId: string, coverage: number[] | null = null) =>
    (
      await compliance.db().query<{ chain_seq: string }[]>(
        `SELECT r.chain_seq FROM archive_records r
          WHERE r.corp_id = $1 AND r.kind <> 'tombstone' AND ${heldBy('r', '$2')}
            AND ($3::int[] IS NULL OR EXISTS (SELECT 1 FROM archive_sender_departments c
                  WHERE c.corp_id = r.corp_id AND c.chain_seq = r.chain_seq
                    AND c.department_ids && $3::int[]))
          ORDER BY r.chain_seq`,
        [corp.corpId, matterId, coverage],
      )
    ).map((r) => Number(r.chain_seq));
  /** Asks for a matter's export, produces it and downloads it through its presigned URL. */
  const exportMatter = async (token: string, matterId: string, body: object = {}) => {
    const created = await as(token)
      .post(`/v1/archive/matters/${matterId}/exports`, body)
      .expect(202);
    expect(await worker.runOnce()).toBe(true);
    const done = await as(token).get(`/v1/archive/exports/${created.body.id}`).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', error: null });
    const link = await as(token)
      .post(`/v1/archive/exports/${created.body.id}/download`)
      .expect(200);
    const res = await fetch(link.body.url as string);
    expect(res.status).toBe(200);
    const zip = Buffer.from(await res.arrayBuffer());
    expect(sha256(zip)).toBe(link.body.sha256);
    const entries = await unzip(zip);
    const lines = (entries.get('records.jsonl') as Buffer)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
    const manifest = JSON.parse(
      (entries.get('manifest.json') as Buffer).toString('utf8'),
    ) as Manifest;
    return { created: created.body, done: done.body, entries, lines, manifest, zip };
  };
  const seqsOf = (lines: Line[]) => lines.map((l) => l.chainSeq).sort((a, b) => a - b);

  it('exports exactly what a legal matter holds as JSONL, CSV, media and a manifest, through a presigned URL', async () => {
    const { created, done, entries, lines, manifest } = await exportMatter(officer, matters.alice);
    expect(created).toMatchObject({
      status: 'queued',
      source: { kind: 'matter', matterId: matters.alice },
      filters: [{ participant: 'alice', kinds: HELD_KINDS }],
      coverage: null,
      formats: ['jsonl', 'csv'],
      includeMedia: true,
    });
    const expected = await held(matters.alice);
    const detail = await as(officer).get(`/v1/archive/matters/${matters.alice}`).expect(200);
    expect(detail.body.heldRecords).toBe(expected.length);
    expect(done.progress).toMatchObject({
      records: expected.length,
      filtersDone: 1,
      filtersTotal: 1,
    });
    // Exactly the held records, each once: the messages, the recall, the conversation's
    // creation, the app message alice received and the media copy's record; nothing of C or D.
    expect(seqsOf(lines)).toEqual(expected);
    const byMessage = lines.map((l) => [l.kind, l.messageId ?? l.preMessageId]);
    expect(byMessage).toEqual(
      expect.arrayContaining([
        ['message', m.a1],
        ['message', m.a2],
        ['media', m.a2],
        ['message', m.a3],
        ['recall', m.a3],
        ['message', m.b1],
        ['message', m.b2],
        ['message', m.appAlice],
        ['conversation', null],
      ]),
    );
    expect(lines).toHaveLength(9);
    // Each line recomputes its own hash.
    for (const line of lines) {
      const { hash, ...canonical } = line;
      expect(
        linkHash(
          Buffer.from(canonical.prevHash as string, 'hex'),
          canonicalJson(canonical),
        ).toString('hex'),
      ).toBe(hash);
    }
    const csv = (entries.get('records.csv') as Buffer).toString('utf8').trim().split('\r\n');
    expect(csv).toHaveLength(expected.length + 1);
    expect(
      csv
        .slice(1)
        .map((row) => Number(row.split(',')[0]))
        .sort((a, b) => a - b),
    ).toEqual(expected);
    expect(manifest.records).toBe(expected.length);
    expect(manifest.entries.map((e) => e.chainSeq).sort((a, b) => a - b)).toEqual(expected);
    const fileLine = lines.find((l) => l.kind === 'message' && l.messageId === m.a2) as Line;
    const [medium] = fileLine.media as { mediaId: string }[];
    expect(entries.get(`media/${fileLine.chainSeq}/${medium.mediaId}-合同.pdf`)).toEqual(contract);
    for (const file of manifest.files)
      expect([file.name, sha256(entries.get(file.name) as Buffer)]).toEqual([
        file.name,
        file.sha256,
      ]);

    // Asked for (with the matter as its source), produced and downloaded: all recorded.
    const log = async (action: string) =>
      (await as(corp.adminToken).get(`/v1/archive/access-log?action=${action}&limit=1`).expect(200))
        .body.items[0] as { actor: string; query: Record<string, unknown>; resultCount: number };
    expect(await log('archive.export_requested')).toMatchObject({
      actor: 'officer',
      query: { exportId: created.id, source: { kind: 'matter', matterId: matters.alice } },
    });
    expect(await log('archive.exported')).toMatchObject({
      actor: 'officer',
      resultCount: expected.length,
    });
    expect(await log('archive.export_downloaded')).toMatchObject({
      query: { exportId: created.id },
    });
  });

  it('writes each record once where a matter’s filters overlap, and keeps to its time range', async () => {
    const overlap = await exportMatter(officer, matters.overlap, {
      formats: ['jsonl'],
      includeMedia: false,
    });
    expect(overlap.created.filters).toHaveLength(4);
    expect([...overlap.entries.keys()]).toEqual(['records.jsonl', 'manifest.json']);
    const expected = await held(matters.overlap);
    expect(seqsOf(overlap.lines)).toEqual(expected);
    expect(new Set(overlap.lines.map((l) => l.chainSeq)).size).toBe(overlap.lines.length);
    expect(overlap.lines.map((l) => l.messageId)).toEqual(
      expect.arrayContaining([m.a1, m.a2, m.a3, m.c1, m.c2]),
    );
    expect(overlap.lines.map((l) => l.messageId)).not.toContain(m.b1);
    expect(overlap.manifest.entries[0].media.every((x) => x.status === 'not_requested')).toBe(true);

    const window = await exportMatter(officer, matters.window);
    expect(window.lines.map((l) => l.messageId)).toEqual([m.c2]);
    expect(seqsOf(window.lines)).toEqual(await held(matters.window));
  });

  it('exports only what the officer’s department coverage shows of a matter', async () => {
    const { created, lines } = await exportMatter(salesOfficer, matters.overlap);
    expect(created.coverage).toEqual([sales]);
    const expected = await held(matters.overlap, [sales]);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan((await held(matters.overlap)).length);
    expect(seqsOf(lines)).toEqual(expected);
    expect(new Set(lines.map((l) => l.sender))).toEqual(new Set(['bob']));
  });

  it('refuses members, super admins, anonymous callers, bad input and other corps’ matters, changing nothing', async () => {
    const jobs = () => count('SELECT count(*) AS n FROM export_jobs WHERE corp_id = $1');
    const logged = () => count('SELECT count(*) AS n FROM access_log WHERE corp_id = $1');
    const before = [await jobs(), await logged()];
    const path = `/v1/archive/matters/${matters.alice}/exports`;
    for (const token of [member, corp.adminToken]) {
      const res = await as(token).post(path);
      expect([res.status, res.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    }
    expect((await compliance.http().post(path)).status).toBe(401);
    const otherMatter = (
      await as(otherOfficer)
        .post('/v1/archive/matters', { name: '别家', custodians: ['alice'] })
        .expect(201)
    ).body.id as string;
    const cases: [string, object | string, number, string][] = [
      ['/v1/archive/matters/not-a-uuid/exports', {}, 400, 'VALIDATION_FAILED'],
      [`/v1/archive/matters/${randomUUID()}/exports`, {}, 404, 'MATTER_NOT_FOUND'],
      [`/v1/archive/matters/${otherMatter}/exports`, {}, 404, 'MATTER_NOT_FOUND'],
      [path, { formats: [] }, 400, 'VALIDATION_FAILED'],
      [path, { formats: ['pdf'] }, 400, 'VALIDATION_FAILED'],
      [path, { formats: 'jsonl' }, 400, 'VALIDATION_FAILED'],
      [path, { includeMedia: 'yes' }, 400, 'VALIDATION_FAILED'],
      [path, { filter: {} }, 400, 'VALIDATION_FAILED'],
      [path, { matterId: matters.overlap }, 400, 'VALIDATION_FAILED'],
      [path, '{"formats":', 400, 'MALFORMED_JSON'],
      [path, { formats: Array(2_000_000).fill('jsonl') }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [target, body, status, code] of cases) {
      const res =
        typeof body === 'string'
          ? await compliance
              .http()
              .post(target)
              .set('authorization', `Bearer ${officer}`)
              .set('content-type', 'application/json')
              .send(body)
          : await as(officer).post(target, body);
      expect([target, res.status, res.body.code]).toEqual([target, status, code]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    // This corp's matter is not another corp's officer's to export.
    const foreign = await as(otherOfficer).post(path);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'MATTER_NOT_FOUND']);
    expect([await jobs(), await logged()]).toEqual(before);
  });

  it('shows nothing of purged records in search, the context view, alerts or an export asked before the purge; tombstones are found by kind, and the chain verifies', async () => {
    // The rule found 秘密 in D's message and its file's name.
    const alerts = (await as(officer).get(`/v1/archive/alerts?ruleId=${secretRule}`).expect(200))
      .body.items as { messageId: string }[];
    expect(alerts.map((a) => a.messageId).sort()).toEqual([m.d1, m.d2].sort());
    const pending = await as(officer)
      .post('/v1/archive/exports', {
        filter: { kinds: ['message', 'recall', 'conversation', 'media', 'tombstone'] },
      })
      .expect(202);
    const [copy] = await compliance.db().query<{ archive_bucket: string; archive_key: string }[]>(
      `SELECT archive_bucket, archive_key FROM archive_media m JOIN archive_records r
            ON r.corp_id = m.corp_id AND r.chain_seq = m.record_seq
          WHERE m.corp_id = $1 AND r.message_id = $2`,
      [corp.corpId, m.d2],
    );

    await as(corp.adminToken)
      .put('/v1/archive/retention/policies/default', { retainDays: 365 })
      .expect(200);
    const purge = await as(corp.adminToken).post('/v1/archive/retention/purge').expect(200);
    // D's creation, its two messages and the copy's record of its file.
    expect(purge.body).toMatchObject({ purged: 4, tombstones: 1, held: 0, mediaRemoved: 1 });

    expect(
      (
        await as(officer)
          .post('/v1/archive/search', { keywords: { all: ['秘密'] } })
          .expect(200)
      ).body.items,
    ).toEqual([]);
    expect(
      (
        await as(officer)
          .post('/v1/archive/search', {
            conversationId: D,
            kinds: ['message', 'recall', 'conversation', 'media'],
          })
          .expect(200)
      ).body.items,
    ).toEqual([]);
    const media = await as(officer)
      .post('/v1/archive/search', { kinds: ['media'] })
      .expect(200);
    expect(media.body.items.map((h: { messageId: string }) => h.messageId)).toEqual([m.a2]);
    const view = await as(officer).get(`/v1/archive/conversations/${D}`).expect(200);
    expect(view.body.records).toEqual([]);
    expect(JSON.stringify(view.body)).not.toContain('秘密');
    expect(
      (await as(officer).get(`/v1/archive/alerts?ruleId=${secretRule}`).expect(200)).body.items,
    ).toEqual([]);
    const storage = new ObjectStorage(storageConfigSchema.parse(compliance.s3.env));
    expect(await storage.stat(copy.archive_bucket, copy.archive_key)).toBeNull();

    // The tombstone: found by its kind (officers of the whole corp: it was written by no one's
    // people), saying which positions went and nothing they said.
    const tombstones = await as(officer)
      .post('/v1/archive/search', { kinds: ['tombstone'] })
      .expect(200);
    expect(tombstones.body.items).toHaveLength(1);
    const [tombstone] = tombstones.body.items as Record<string, unknown>[];
    expect(tombstone).toMatchObject({
      kind: 'tombstone',
      type: 'retention.purge',
      sender: 'system',
      text: '',
      participants: [],
      media: [],
      details: { records: 4, policies: { default: 365 } },
    });
    expect(JSON.stringify(tombstone)).not.toContain('秘密');
    expect(
      (
        await as(salesOfficer)
          .post('/v1/archive/search', { kinds: ['tombstone'] })
          .expect(200)
      ).body.items,
    ).toEqual([]);

    // The export asked for before the purge is produced after it: nothing purged is in it.
    expect(await worker.runOnce()).toBe(true);
    const link = await as(officer)
      .post(`/v1/archive/exports/${pending.body.id}/download`)
      .expect(200);
    const zip = Buffer.from(await (await fetch(link.body.url as string)).arrayBuffer());
    const entries = await unzip(zip);
    for (const [name, bytes] of entries) {
      expect([name, bytes.includes(Buffer.from('秘密'))]).toEqual([name, false]);
      expect([name, bytes.equals(secretFile)]).toEqual([name, false]);
    }
    const lines = (entries.get('records.jsonl') as Buffer)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.messageId)).not.toContain(m.d1);
    expect(lines.some((l) => l.conversationId === D)).toBe(false);
    // Capped at the moment it was asked for: the purge's tombstone came after.
    expect(lines.filter((l) => l.kind === 'tombstone')).toHaveLength(0);
    expect(lines.map((l) => l.messageId)).toEqual(expect.arrayContaining([m.a1, m.c2, m.appDave]));

    // The matter's export holds what it held: nothing of it was purged.
    const again = await exportMatter(officer, matters.alice, { includeMedia: false });
    expect(seqsOf(again.lines)).toEqual(await held(matters.alice));
    expect(again.lines).toHaveLength(9);

    const verified = await as(officer).get('/v1/archive/verify').expect(200);
    expect(verified.body.archive).toMatchObject({ ok: true, purged: 4, firstBroken: null });
  });
});
