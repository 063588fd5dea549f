import { createHash, randomUUID } from 'node:crypto';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { asCorpId } from '@qiwei/persistence';
import { LOGGER } from '@qiwei/platform';
import { ObjectStorage } from '@qiwei/storage';
import { bearer, eventually } from '@qiwei/testing';
import { AccessLog } from '../src/access-log/access-log';
import { ArchiveWriter } from '../src/archive/archive-writer';
import { canonicalJson, linkHash, type Canonical } from '../src/chain/hash-chain';
import { ExportStorage } from '../src/exports/export-storage';
import { ExportWorker } from '../src/exports/export-worker';
import { ARCHIVE_INDEX } from '../src/search/archive-index';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { sentEvent } from './support/events';
import { unzip } from './support/zip';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Manifest {
  format: string;
  records: number;
  coverage: number[] | null;
  chain: { first: number | null; last: number | null; signedHead: unknown };
  files: { name: string; sha256: string; bytes: number }[];
  entries: {
    chainSeq: number;
    hash: string;
    prevHash: string;
    media: { mediaId: string; status: string; file: string | null }[];
  }[];
}

describe('compliance: exports', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let officer: string;
  let officer2: string;
  let scopedOfficer: string;
  let member: string;
  let otherOfficer: string;
  let worker: ExportWorker;
  let service: number;
  const group = randomUUID();
  const texts = [
    '这款理财产品收益很高',
    '=HYPERLINK("http://evil.example","点我")',
    'Quote "this", and a\nnew line',
    '客户投诉：理赔太慢',
    '稳赚不赔的理财',
  ];
  const senders = ['alice', 'alice', 'alice', 'bob', 'bob'];
  const mediaBytes = Buffer.from('合同扫描件 PDF bytes');

  beforeAll(async () => {
    compliance = await bootCompliance({
      env: { EXPORT_WORKERS: '0', EXPORT_CHUNK_SIZE: '2', EXPORT_LEASE_SECONDS: '30' },
    });
    worker = compliance.app.get(ExportWorker);
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    service = await corp.department('客服部');
    [officer, officer2, scopedOfficer, member, otherOfficer] = await Promise.all([
      corp.member('officer', ['compliance_officer']),
      corp.member('officer2', ['compliance_officer']),
      corp.member('service-officer', ['compliance_officer', 'department_admin'], {
        scopes: [service],
      }),
      corp.member('alice'),
      other.member('officer', ['compliance_officer']),
      corp.member('bob', [], { departments: [service] }),
    ]);
    await compliance.publish(
      MESSAGING_MESSAGE_TOPIC,
      texts.map((text, i) =>
        sentEvent(corp.corpId, group, i + 1, text, {
          sender: senders[i],
          at: new Date(Date.UTC(2025, 3, i + 1)),
        }),
      ),
    );
    await compliance.archived(corp.corpId, texts.length);
    // A file message whose media the archive holds (one copy intact, one altered, one missing).
    const s3 = new ObjectStorage({
      S3_ENDPOINT: compliance.s3.endpoint,
      S3_ACCESS_KEY: compliance.s3.accessKey,
      S3_SECRET_KEY: compliance.s3.secretKey,
      S3_REGION: 'us-east-1',
    });
    await s3.ensureBucket('qiwei-test-archive');
    await s3.put('qiwei-test-archive', 'm/contract', mediaBytes);
    await s3.put('qiwei-test-archive', 'm/altered', Buffer.from('not what was sent'));
    const medium = (mediaId: string, key: string, bytes: Buffer) => ({
      mediaId,
      kind: 'file',
      filename: `${mediaId}.pdf`,
      contentType: 'application/pdf',
      size: bytes.length,
      sha256: sha256(bytes),
      // Messaging's object is long gone: what counts is the archive's copy (put above).
      sourceBucket: 'qiwei-test-media',
      sourceKey: key,
      archiveBucket: 'qiwei-test-archive',
      archiveKey: key,
    });
    await compliance.db().transaction(async (em) =>
      compliance.app.get(ArchiveWriter).append(em, {
        corpId: asCorpId(corp.corpId),
        kind: 'message',
        eventId: randomUUID(),
        messageId: randomUUID(),
        preMessageId: null,
        conversationId: group,
        conversationKind: 'group',
        sender: 'bob',
        type: 'file',
        text: '合同.pdf',
        mentions: [],
        quoteSeq: 0,
        seq: 6,
        participants: ['alice', 'bob'],
        details: {},
        media: [
          medium('contract', 'm/contract', mediaBytes),
          medium('altered', 'm/altered', mediaBytes),
          medium('gone', 'm/gone', mediaBytes),
        ],
        consent: 'not_required',
        sentAt: new Date(Date.UTC(2025, 3, 6)),
      }),
    );
  }, 180_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  const count = async (sql: string) => {
    const [row] = await compliance.db().query<{ n: string }[]>(sql, [corp.corpId]);
    return Number(row.n);
  };
  const accessEntries = (action: string) =>
    compliance
      .db()
      .query<{ actor: string; query: Record<string, unknown>; result_count: number }[]>(
        'SELECT actor, query, result_count FROM access_log WHERE corp_id = $1 AND action = $2 ORDER BY chain_seq',
        [corp.corpId, action],
      );
  const download = async (token: string, id: string) => {
    const link = await as(token).post(`/v1/archive/exports/${id}/download`).expect(200);
    const res = await fetch(link.body.url as string);
    expect(res.status).toBe(200);
    const zip = Buffer.from(await res.arrayBuffer());
    expect(sha256(zip)).toBe(link.body.sha256);
    expect(zip.length).toBe(link.body.bytes);
    return unzip(zip);
  };
  const jsonl = (entries: Map<string, Buffer>) =>
    (entries.get('records.jsonl') as Buffer)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, Canonical>);

  it('exports a search as JSONL, CSV, media and a manifest, downloaded through a presigned URL', async () => {
    const created = await as(officer)
      .post('/v1/archive/exports', { filter: { conversationId: group } })
      .expect(202);
    expect(created.body).toMatchObject({
      status: 'queued',
      source: { kind: 'search' },
      coverage: null,
      formats: ['jsonl', 'csv'],
      includeMedia: true,
      progress: { records: 0, chunks: 0, filtersDone: 0, filtersTotal: 1 },
    });
    const early = await as(officer).post(`/v1/archive/exports/${created.body.id}/download`);
    expect([early.status, early.body.code]).toEqual([409, 'EXPORT_NOT_READY']);
    expect(await worker.runOnce()).toBe(true);
    const done = await as(officer).get(`/v1/archive/exports/${created.body.id}`).expect(200);
    expect(done.body).toMatchObject({
      status: 'completed',
      progress: { records: 6, chunks: 3, filtersDone: 1, filtersTotal: 1 },
      mediaFiles: 2,
      error: null,
    });
    const entries = await download(officer, created.body.id);
    expect([...entries.keys()]).toEqual([
      'records.jsonl',
      'records.csv',
      'media/6/contract-contract.pdf',
      'media/6/altered-altered.pdf',
      'manifest.json',
    ]);

    // JSONL: every record as its chain hashed it; the hashes recompute from the lines alone.
    const lines = jsonl(entries);
    expect(lines.map((l) => l.text)).toEqual(['合同.pdf', ...[...texts].reverse()]);
    for (const line of lines) {
      const { hash, ...canonical } = line;
      expect(
        linkHash(
          Buffer.from(canonical.prevHash as string, 'hex'),
          canonicalJson(canonical),
        ).toString('hex'),
      ).toBe(hash);
    }

    // CSV: UTF-8 BOM, header, quoting, and a formula that a spreadsheet will not run.
    const csv = (entries.get('records.csv') as Buffer).toString('utf8');
    expect(csv.startsWith('\uFEFFchain_seq,sent_at,kind,type,')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);
    expect(csv).toContain('"Quote ""this"", and a\nnew line"');
    expect(csv.trim().split('\r\n')).toHaveLength(7);

    expect(entries.get('media/6/contract-contract.pdf')).toEqual(mediaBytes);

    // The manifest: files with their hashes, every record's chain position and hash.
    const manifest = JSON.parse(
      (entries.get('manifest.json') as Buffer).toString('utf8'),
    ) as Manifest;
    expect(manifest).toMatchObject({
      format: 'qiwei-archive-export/1',
      records: 6,
      coverage: null,
    });
    for (const file of manifest.files)
      expect([file.name, sha256(entries.get(file.name) as Buffer)]).toEqual([
        file.name,
        file.sha256,
      ]);
    expect(manifest.entries.map((e) => e.hash)).toEqual(lines.map((l) => l.hash));
    expect(manifest.entries.map((e) => e.chainSeq)).toEqual(lines.map((l) => l.chainSeq));
    expect(manifest.chain).toMatchObject({
      first: Math.min(...manifest.entries.map((e) => e.chainSeq)),
      last: Math.max(...manifest.entries.map((e) => e.chainSeq)),
    });
    expect(manifest.entries[0].media.map((m) => [m.mediaId, m.status])).toEqual([
      ['contract', 'included'],
      ['altered', 'sha256_mismatch'],
      ['gone', 'missing'],
    ]);

    // Asked for, produced and downloaded: three entries in the access log.
    const [requested] = await accessEntries('archive.export_requested');
    expect(requested).toMatchObject({
      actor: 'officer',
      query: { exportId: created.body.id, filters: [{ conversationId: group }], coverage: null },
      result_count: 0,
    });
    const [exported] = await accessEntries('archive.exported');
    expect(exported).toMatchObject({ actor: 'officer', result_count: 6 });
    const [downloaded] = await accessEntries('archive.export_downloaded');
    expect(downloaded).toMatchObject({ actor: 'officer', result_count: 6 });
    const verified = await as(officer).get('/v1/archive/verify').expect(200);
    expect(verified.body.accessLog).toMatchObject({ ok: true, firstBroken: null });
  });

  it('exports only what the officer’s department coverage shows', async () => {
    const created = await as(scopedOfficer)
      .post('/v1/archive/exports', { filter: {}, formats: ['jsonl'], includeMedia: false })
      .expect(202);
    expect(created.body.coverage).toEqual([service]);
    await worker.runOnce();
    const entries = await download(scopedOfficer, created.body.id);
    expect([...entries.keys()]).toEqual(['records.jsonl', 'manifest.json']);
    expect(jsonl(entries).map((l) => l.sender)).toEqual(['bob', 'bob', 'bob']);
    const manifest = JSON.parse(
      (entries.get('manifest.json') as Buffer).toString('utf8'),
    ) as Manifest;
    expect(manifest.entries[0].media.map((m) => m.status)).toEqual([
      'not_requested',
      'not_requested',
      'not_requested',
    ]);
  });

  it('resumes after a crash where it stopped, writing every record once; the crashed worker is fenced off', async () => {
    const created = await as(officer)
      .post('/v1/archive/exports', { filter: { senders: ['alice', 'bob'] }, includeMedia: false })
      .expect(202);
    const first = await worker.claim();
    expect(first?.id).toBe(created.body.id);
    expect(await worker.step(first!)).toBe('more');
    // While the lease holds, no other worker takes the job.
    expect(await worker.claim()).toBeNull();
    // The worker dies; its lease lapses. A step it was half-way through left a row behind.
    const [{ chain_seq: next }] = await compliance.db().query<{ chain_seq: string }[]>(
      `SELECT chain_seq FROM archive_records WHERE corp_id = $1 AND kind = 'message'
        ORDER BY sent_at DESC, chain_seq DESC OFFSET 2 LIMIT 1`,
      [corp.corpId],
    );
    await compliance
      .db()
      .query(
        `INSERT INTO export_records (corp_id, export_id, chain_seq, chunk) VALUES ($1, $2, $3, 2)`,
        [corp.corpId, created.body.id, next],
      );
    await compliance
      .db()
      .query(
        `UPDATE export_jobs SET lease_until = now() - interval '1 second' WHERE corp_id = $1 AND id = $2`,
        [corp.corpId, created.body.id],
      );
    const second = await worker.claim();
    expect(second).toMatchObject({ id: created.body.id, attempts: 2, chunks: 1, records: 2 });
    // The first worker wakes up: its writes are refused.
    expect(await worker.step(first!)).toBe('lost');
    let outcome = 'more';
    while (outcome === 'more') outcome = await worker.step(second!);
    expect(outcome).toBe('completed');
    const entries = await download(officer, created.body.id);
    const seqs = jsonl(entries).map((l) => l.chainSeq as number);
    expect(seqs).toHaveLength(6);
    expect(new Set(seqs).size).toBe(6);
    expect(seqs).toContain(Number(next));
    const status = await as(officer).get(`/v1/archive/exports/${created.body.id}`).expect(200);
    expect(status.body).toMatchObject({ status: 'completed', progress: { records: 6 } });
  });

  it('runs in the background on replicas with EXPORT_WORKERS', async () => {
    const background = new ExportWorker(
      compliance.db(),
      compliance.app.get(ARCHIVE_INDEX),
      compliance.app.get(ExportStorage),
      compliance.app.get(AccessLog),
      { ...compliance.config, EXPORT_WORKERS: 1, EXPORT_POLL_INTERVAL_MS: 50 },
      compliance.app.get(LOGGER),
    );
    background.onApplicationBootstrap();
    try {
      const created = await as(officer2)
        .post('/v1/archive/exports', { filter: { keywords: { all: ['理财'] } } })
        .expect(202);
      const done = await eventually(async () => {
        const res = await as(officer2).get(`/v1/archive/exports/${created.body.id}`).expect(200);
        if (res.body.status !== 'completed') throw new Error(res.body.status);
        return res.body;
      });
      expect(done.progress.records).toBe(2);
      const listed = await as(officer2).get('/v1/archive/exports?limit=1').expect(200);
      expect(listed.body.items.map((j: { id: string }) => j.id)).toEqual([created.body.id]);
    } finally {
      await background.onApplicationShutdown();
    }
  });

  it('shows an export only to the officer who asked for it, and to no other corp', async () => {
    const mine = await as(officer).get('/v1/archive/exports?limit=1').expect(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.nextCursor).not.toBeNull();
    const next = await as(officer)
      .get(`/v1/archive/exports?limit=1&cursor=${mine.body.nextCursor}`)
      .expect(200);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(mine.body.items[0].id);
    const id = mine.body.items[0].id as string;
    for (const token of [officer2, otherOfficer]) {
      const res = await as(token).get(`/v1/archive/exports/${id}`);
      expect([res.status, res.body.code]).toEqual([404, 'EXPORT_NOT_FOUND']);
      const link = await as(token).post(`/v1/archive/exports/${id}/download`);
      expect([link.status, link.body.code]).toEqual([404, 'EXPORT_NOT_FOUND']);
    }
    expect((await as(otherOfficer).get('/v1/archive/exports').expect(200)).body.items).toEqual([]);
  });

  it('refuses members, anonymous callers and bad input, changing nothing', async () => {
    const jobs = () => count('SELECT count(*) AS n FROM export_jobs WHERE corp_id = $1');
    const logged = () => count('SELECT count(*) AS n FROM access_log WHERE corp_id = $1');
    const [jobsBefore, logBefore] = [await jobs(), await logged()];
    const id = randomUUID();
    for (const [method, path] of [
      ['post', '/v1/archive/exports'],
      ['get', '/v1/archive/exports'],
      ['get', `/v1/archive/exports/${id}`],
      ['post', `/v1/archive/exports/${id}/download`],
    ] as const) {
      const res = await as(member)[method](path, { filter: {} });
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'ROLE_REQUIRED']);
      expect((await compliance.http()[method](path)).status).toBe(401);
    }
    const cases: [object | string, number, string][] = [
      [{}, 400, 'VALIDATION_FAILED'],
      [{ filter: 'all' }, 400, 'VALIDATION_FAILED'],
      [{ filter: { from: 'yesterday' } }, 400, 'VALIDATION_FAILED'],
      [{ filter: { sort: 'time' } }, 400, 'VALIDATION_FAILED'],
      [{ filter: {}, formats: [] }, 400, 'VALIDATION_FAILED'],
      [{ filter: {}, formats: ['pdf'] }, 400, 'VALIDATION_FAILED'],
      [{ filter: {}, includeMedia: 'yes' }, 400, 'VALIDATION_FAILED'],
      [{ filter: {}, extra: 1 }, 400, 'VALIDATION_FAILED'],
      [{ filter: { senderDepartments: [-1] } }, 400, 'VALIDATION_FAILED'],
      [
        { filter: { from: '2025-05-01T00:00:00Z', to: '2025-04-01T00:00:00Z' } },
        422,
        'TIME_RANGE_INVALID',
      ],
      ['{"filter":', 400, 'MALFORMED_JSON'],
      [{ filter: { types: Array(2_000_000).fill('t') } }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res =
        typeof body === 'string'
          ? await compliance
              .http()
              .post('/v1/archive/exports')
              .set('authorization', `Bearer ${officer}`)
              .set('content-type', 'application/json')
              .send(body)
          : await as(officer).post('/v1/archive/exports', body);
      expect([res.status, res.body.code, body]).toEqual([status, code, body]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    for (const [path, code] of [
      ['/v1/archive/exports/not-a-uuid', 'VALIDATION_FAILED'],
      ['/v1/archive/exports?cursor=forged', 'INVALID_CURSOR'],
      ['/v1/archive/exports?limit=5000', 'VALIDATION_FAILED'],
    ]) {
      const res = await as(officer).get(path);
      expect([path, res.status, res.body.code]).toEqual([path, 400, code]);
    }
    expect([await jobs(), await logged()]).toEqual([jobsBefore, logBefore]);
  });

  it('shows super admins the search index backlog and lets them retry rejected records', async () => {
    const backlog = await as(corp.adminToken).get('/v1/archive/index').expect(200);
    expect(backlog.body).toEqual({
      engine: 'postgres',
      pending: 0,
      failed: 0,
      oldestPendingAt: null,
      failures: [],
    });
    const retried = await as(corp.adminToken).post('/v1/archive/index/retry').expect(200);
    expect(retried.body).toEqual({ requeued: 0 });
    const [entry] = await accessEntries('archive.index_retried');
    expect(entry).toMatchObject({ actor: 'admin', result_count: 0 });
    for (const [method, path] of [
      ['get', '/v1/archive/index'],
      ['post', '/v1/archive/index/retry'],
    ] as const) {
      const res = await as(officer)[method](path);
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'ROLE_REQUIRED']);
      expect((await compliance.http()[method](path)).status).toBe(401);
    }
    // Another corp's admin sees its own (empty) backlog, never this corp's.
    expect((await as(other.adminToken).get('/v1/archive/index').expect(200)).body.pending).toBe(0);
  });
});
