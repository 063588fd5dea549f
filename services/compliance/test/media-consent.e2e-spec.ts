import { createHash, randomUUID } from 'node:crypto';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { bearer, eventually } from '@qiwei/testing';
import { canonicalRecord, recordOf, type ArchiveRecordRow } from '../src/archive/archive-record';
import { ChainHeadSigner } from '../src/chain/chain-heads';
import { linkHash } from '../src/chain/hash-chain';
import { storedHeadKey } from '../src/chain/stored-heads';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import { sentEvent, sentRecord } from './support/events';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const SOURCE_BUCKET = 'qiwei-messaging-media';

/** Media copies, external contacts' consent, and signed heads in object storage. */
describe('compliance: media copies, consent, heads in object storage', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let officer: string;
  let member: string;
  let otherOfficer: string;
  let scopedOfficer: string;
  let sales: number;
  let storage: ObjectStorage;

  beforeAll(async () => {
    compliance = await bootCompliance({ env: { MEDIA_COPY_MAX_ATTEMPTS: '2' } });
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    [officer, member, otherOfficer] = await Promise.all([
      corp.member('officer', ['compliance_officer']),
      corp.member('alice'),
      other.member('officer', ['compliance_officer']),
    ]);
    sales = await corp.department('销售部');
    [scopedOfficer] = await Promise.all([
      corp.member('sales-officer', ['compliance_officer', 'department_admin'], {
        scopes: [sales],
      }),
      corp.member('bob', [], { departments: [sales] }),
    ]);
    storage = new ObjectStorage(storageConfigSchema.parse(compliance.s3.env));
    await storage.ensureBucket(SOURCE_BUCKET);
  }, 180_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  const records = (corpId: string, conversation: string) =>
    compliance
      .db()
      .query<ArchiveRecordRow[]>(
        'SELECT * FROM archive_records WHERE corp_id = $1 AND conversation_id = $2 ORDER BY chain_seq',
        [corpId, conversation],
      );
  const upload = async (body: Buffer) => {
    const key = `${corp.corpId}/${randomUUID()}`;
    await storage.put(SOURCE_BUCKET, key, body, body.length);
    return { mediaId: randomUUID(), bucket: SOURCE_BUCKET, objectKey: key, size: body.length };
  };
  const mediaRow = (mediaId: string) =>
    eventually(
      async () => {
        const [row] = await compliance
          .db()
          .query<Record<string, string>[]>('SELECT * FROM archive_media WHERE media_id = $1', [
            mediaId,
          ]);
        if (!row || row.status === 'pending') throw new Error(`copy of ${mediaId} still pending`);
        return row;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  describe('media', () => {
    it('copies a medium into the archive’s bucket, verifies its SHA-256, and keeps it after messaging deletes the original', async () => {
      const body = Buffer.from('%PDF-1.7 合同 contract, signed', 'utf8');
      const media = { ...(await upload(body)), sha256: sha256(body), filename: '合同.pdf' };
      const conversation = randomUUID();
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, conversation, 1, '', { media }),
      );
      const copy = await mediaRow(media.mediaId);
      expect(copy).toMatchObject({ status: 'archived', copied_sha256: media.sha256 });
      const [message, outcome] = await records(corp.corpId, conversation);
      expect(recordOf(message).media).toEqual([
        expect.objectContaining({
          mediaId: media.mediaId,
          filename: '合同.pdf',
          size: body.length,
          sha256: media.sha256,
          sourceBucket: SOURCE_BUCKET,
          archiveBucket: 'qiwei-compliance-archive',
          archiveKey: copy.archive_key,
        }),
      ]);
      expect(outcome).toMatchObject({ kind: 'media', type: 'media.archived' });
      expect(outcome.details).toMatchObject({
        mediaId: media.mediaId,
        messageSeq: Number(message.chain_seq),
        sha256: media.sha256,
        size: body.length,
        verified: true,
        fault: null,
      });
      // Messaging deletes its media: the evidence stays.
      await storage.remove(SOURCE_BUCKET, media.objectKey);
      expect(await storage.sha256('qiwei-compliance-archive', copy.archive_key)).toBe(media.sha256);
      const listed = await as(officer).get('/v1/archive/media?status=archived').expect(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({ mediaId: media.mediaId, verified: true, sha256: media.sha256 }),
      ]);
      const view = await as(officer).get(`/v1/archive/conversations/${conversation}`).expect(200);
      expect(view.body.records.map((r: { kind: string }) => r.kind)).toEqual(['message', 'media']);
      expect(view.body.records[0].media[0]).toMatchObject({ mediaId: media.mediaId });
    });

    it('records a missing source and a mismatching copy as visible faults after retrying', async () => {
      const body = Buffer.from('quarterly figures', 'utf8');
      const mismatching = { ...(await upload(body)), sha256: sha256(Buffer.from('other bytes')) };
      const missing = {
        mediaId: randomUUID(),
        bucket: SOURCE_BUCKET,
        objectKey: `${corp.corpId}/deleted-before-archiving`,
        size: 10,
        sha256: sha256(Buffer.from('gone')),
      };
      const conversation = randomUUID();
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, conversation, 1, '', { media: missing }),
      );
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, conversation, 2, '', { media: mismatching }),
      );
      const gone = await mediaRow(missing.mediaId);
      const bad = await mediaRow(mismatching.mediaId);
      expect(gone).toMatchObject({ status: 'fault', last_error: 'source_missing', attempts: 2 });
      expect(bad).toMatchObject({
        status: 'fault',
        last_error: 'checksum_mismatch',
        copied_sha256: sha256(body),
      });
      const outcomes = (await records(corp.corpId, conversation)).filter((r) => r.kind === 'media');
      expect(outcomes.map((r) => [r.type, r.details.fault, r.details.verified]).sort()).toEqual([
        ['media.fault', 'checksum_mismatch', false],
        ['media.fault', 'source_missing', false],
      ]);
      const faults = await as(officer).get('/v1/archive/media?status=fault&limit=1').expect(200);
      expect(faults.body.items).toHaveLength(1);
      expect(faults.body.nextCursor).not.toBeNull();
      const next = await as(officer)
        .get(`/v1/archive/media?status=fault&limit=1&cursor=${faults.body.nextCursor}`)
        .expect(200);
      expect([faults.body.items[0].mediaId, next.body.items[0].mediaId].sort()).toEqual(
        [missing.mediaId, mismatching.mediaId].sort(),
      );
      // Nothing of it to another corp's officer or to a member.
      expect((await as(otherOfficer).get('/v1/archive/media').expect(200)).body.items).toEqual([]);
      const refused = await as(member).get('/v1/archive/media');
      expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
      const badStatus = await as(officer).get('/v1/archive/media?status=lost');
      expect([badStatus.status, badStatus.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect((await as(officer).get('/v1/archive/verify').expect(200)).body.ok).toBe(true);
    });

    it('lists to a department-scoped officer only the media of senders in their departments', async () => {
      const conversation = randomUUID();
      const bodies = [Buffer.from('bob 的报价单'), Buffer.from('alice 的合同')];
      const [bobs, alices] = await Promise.all(
        bodies.map(async (body) => ({ ...(await upload(body)), sha256: sha256(body) })),
      );
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, conversation, 1, '', { media: bobs, sender: 'bob' }),
      );
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, conversation, 2, '', { media: alices, sender: 'alice' }),
      );
      await Promise.all([mediaRow(bobs.mediaId), mediaRow(alices.mediaId)]);
      const ids = async (token: string) => {
        const listed = await as(token).get('/v1/archive/media?limit=100').expect(200);
        return (listed.body.items as { mediaId: string }[]).map((i) => i.mediaId);
      };
      const scoped = await ids(scopedOfficer);
      expect(scoped).toContain(bobs.mediaId);
      expect(scoped).not.toContain(alices.mediaId);
      // Every medium the scoped officer sees is one a sender of their department sent.
      const senders = await compliance.db().query<{ sender: string }[]>(
        `SELECT DISTINCT r.sender FROM archive_media m
             JOIN archive_records r ON r.corp_id = m.corp_id AND r.chain_seq = m.record_seq
            WHERE m.corp_id = $1 AND m.media_id = ANY($2::text[])`,
        [corp.corpId, scoped],
      );
      expect(senders.map((r) => r.sender)).toEqual(['bob']);
      expect(await ids(officer)).toEqual(expect.arrayContaining([bobs.mediaId, alices.mediaId]));
    });
  });

  describe('consent of external contacts', () => {
    const texts = async (conversation: string) =>
      (await records(corp.corpId, conversation))
        .filter((r) => r.kind === 'message')
        .map((r) => [r.text, r.consent, r.media.length]);

    it('archives only the fact of a message when an external contact has not consented', async () => {
      const body = Buffer.from('报价单 price list', 'utf8');
      const media = { ...(await upload(body)), sha256: sha256(body) };
      const group = randomUUID();
      const participants = ['alice', 'bob', 'wm_ext_zhang'];
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, group, 1, '这个理财产品保本保息', {
          participants,
          externalParticipants: ['wm_ext_zhang'],
        }),
      );
      await compliance.publishRaw(
        MESSAGING_MESSAGE_TOPIC.name,
        sentRecord(corp.corpId, group, 2, '', {
          participants,
          externalParticipants: ['wm_ext_zhang'],
          media,
        }),
      );
      await eventually(async () => expect(await texts(group)).toHaveLength(2));
      const [first, second] = await records(corp.corpId, group);
      expect(first).toMatchObject({
        kind: 'message',
        sender: 'alice',
        text: '',
        mentions: [],
        consent: 'withheld',
        participants,
      });
      expect(first.details).toEqual({
        clientMsgId: 'c1',
        externalParticipants: ['wm_ext_zhang'],
        consentStates: { wm_ext_zhang: 'none' },
      });
      expect(second).toMatchObject({ type: 'file', consent: 'withheld', media: [] });
      const copies = await compliance
        .db()
        .query('SELECT 1 FROM archive_media WHERE media_id = $1', [media.mediaId]);
      expect(copies).toHaveLength(0);
      // Found as existing (sender, conversation), never by what it said.
      const found = await as(officer)
        .post('/v1/archive/search', { conversationId: group })
        .expect(200);
      expect(found.body.items).toHaveLength(2);
      expect(found.body.items.every((i: { text: string }) => i.text === '')).toBe(true);
      const byWord = await as(officer)
        .post('/v1/archive/search', { keywords: { all: ['理财'] }, conversationId: group })
        .expect(200);
      expect(byWord.body.items).toHaveLength(0);
    });

    it('applies agree, default_agree, disagree, per contact and per one-to-one pair, from the moment they are set', async () => {
      const single = randomUUID();
      const group = randomUUID();
      const send = (conversation: string, seq: number, text: string, participants: string[]) =>
        compliance.publishRaw(
          MESSAGING_MESSAGE_TOPIC.name,
          sentRecord(corp.corpId, conversation, seq, text, {
            participants,
            externalParticipants: participants.filter((p) => p.startsWith('wm_')),
          }),
        );
      // The contact disagrees towards the corp, but agrees with alice one-to-one.
      await as(officer).put('/v1/archive/consents/wm_ext_li', { status: 'disagree' }).expect(200);
      const pair = await as(corp.adminToken)
        .put('/v1/archive/consents/wm_ext_li', { status: 'agree', userid: 'alice' })
        .expect(200);
      expect(pair.body).toMatchObject({
        externalUserid: 'wm_ext_li',
        userid: 'alice',
        status: 'agree',
        source: 'api',
        changedBy: 'admin',
      });
      await send(single, 1, 'one to one with alice', ['alice', 'wm_ext_li']);
      await send(group, 1, 'in the group', ['alice', 'bob', 'wm_ext_li']);
      await eventually(async () => {
        expect(await texts(single)).toHaveLength(1);
        expect(await texts(group)).toHaveLength(1);
      });
      expect(await texts(single)).toEqual([['one to one with alice', 'agreed', 0]]);
      expect(await texts(group)).toEqual([['', 'withheld', 0]]);
      // default_agree consents; a second external who never answered still withholds.
      await as(officer)
        .put('/v1/archive/consents/wm_ext_li', { status: 'default_agree' })
        .expect(200);
      await send(group, 2, 'now archived', ['alice', 'bob', 'wm_ext_li']);
      await send(group, 3, 'not with wang', ['alice', 'bob', 'wm_ext_li', 'wm_ext_wang']);
      await eventually(async () => expect(await texts(group)).toHaveLength(3));
      expect(await texts(group)).toEqual([
        ['', 'withheld', 0],
        ['now archived', 'agreed', 0],
        ['', 'withheld', 0],
      ]);
      const [, , third] = await records(corp.corpId, group);
      expect(third.details.consentStates).toEqual({
        wm_ext_li: 'default_agree',
        wm_ext_wang: 'none',
      });
      // Internal conversations need no consent.
      const internal = randomUUID();
      await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
        sentEvent(corp.corpId, internal, 1, 'internal only'),
      ]);
      await eventually(async () =>
        expect(await texts(internal)).toEqual([['internal only', 'not_required', 0]]),
      );

      const listed = await as(officer)
        .get('/v1/archive/consents?externalUserid=wm_ext_li')
        .expect(200);
      expect(
        listed.body.items.map((s: { userid: string | null; status: string }) => [
          s.userid,
          s.status,
        ]),
      ).toEqual([
        [null, 'default_agree'],
        ['alice', 'agree'],
      ]);
      const paged = await as(officer).get('/v1/archive/consents?limit=1').expect(200);
      expect(paged.body.nextCursor).not.toBeNull();
      const log = await as(corp.adminToken)
        .get('/v1/archive/access-log?action=consent.changed&limit=1')
        .expect(200);
      expect(log.body.items[0]).toMatchObject({
        actor: 'officer',
        query: {
          externalUserid: 'wm_ext_li',
          userid: null,
          status: 'default_agree',
          previous: 'disagree',
          source: 'api',
        },
      });
    });

    it('refuses members, other corps and bad input, changing nothing', async () => {
      const refused = await as(member).put('/v1/archive/consents/wm_x', { status: 'agree' });
      expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
      expect((await compliance.http().get('/v1/archive/consents')).status).toBe(401);
      for (const [path, body, code] of [
        ['/v1/archive/consents/wm_x', { status: 'maybe' }, 'VALIDATION_FAILED'],
        ['/v1/archive/consents/wm_x', { status: 'agree', userid: 'a b' }, 'VALIDATION_FAILED'],
        ['/v1/archive/consents/wm_x', { status: 'agree', extra: 1 }, 'VALIDATION_FAILED'],
        ['/v1/archive/consents/wm_x', {}, 'VALIDATION_FAILED'],
        [`/v1/archive/consents/${'x'.repeat(65)}`, { status: 'agree' }, 'VALIDATION_FAILED'],
        ['/v1/archive/consents/wm%20x', { status: 'agree' }, 'VALIDATION_FAILED'],
      ] as const) {
        const res = await as(officer).put(path, body);
        expect([path, res.status, res.body.code]).toEqual([path, 400, code]);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      const badCursor = await as(officer).get('/v1/archive/consents?cursor=forged');
      expect([badCursor.status, badCursor.body.code]).toEqual([400, 'INVALID_CURSOR']);
      expect((await as(otherOfficer).get('/v1/archive/consents').expect(200)).body.items).toEqual(
        [],
      );
      const [row] = await compliance
        .db()
        .query<{ n: string }[]>(
          `SELECT count(*) AS n FROM archive_consents WHERE external_userid = 'wm_x'`,
        );
      expect(Number(row.n)).toBe(0);
    });
  });

  describe('signed heads in object storage', () => {
    it('writes each signed head to the archive’s bucket, and verification catches a chain rewritten in PostgreSQL with its heads deleted', async () => {
      const victim = await compliance.createCorp();
      const victimOfficer = await victim.member('officer', ['compliance_officer']);
      const conversation = randomUUID();
      await compliance.publish(
        MESSAGING_MESSAGE_TOPIC,
        ['转账五十万到这个账户', 'ok', 'done'].map((t, i) =>
          sentEvent(victim.corpId, conversation, i + 1, t),
        ),
      );
      await compliance.archived(victim.corpId, 3);
      await compliance.app.get(ChainHeadSigner).signHeads();
      const stored = JSON.parse(
        (
          await storage.read('qiwei-compliance-archive', storedHeadKey(victim.corpId, 'archive', 3))
        ).toString(),
      );
      expect(stored).toMatchObject({ corpId: victim.corpId, chain: 'archive', chainSeq: 3 });
      const clean = await as(victimOfficer).get('/v1/archive/verify').expect(200);
      expect(clean.body.archive).toMatchObject({ ok: true, storedHeadsChecked: 1 });

      // A superuser rewrites the first message, recomputes every hash after it, moves the tip
      // and deletes the signed heads in the database: the database alone no longer shows it.
      const db = compliance.db();
      await db.query('ALTER TABLE archive_records DISABLE TRIGGER archive_records_append_only');
      await db.query('ALTER TABLE chain_heads DISABLE TRIGGER chain_heads_append_only');
      try {
        const rows = await db.query<ArchiveRecordRow[]>(
          'SELECT * FROM archive_records WHERE corp_id = $1 ORDER BY chain_seq',
          [victim.corpId],
        );
        let prev: Buffer = Buffer.alloc(32);
        for (const row of rows) {
          const record = recordOf(row);
          if (record.chainSeq === 1) record.text = '转账五元到这个账户';
          record.prevHash = prev;
          const hash = linkHash(prev, canonicalRecord(record));
          await db.query(
            'UPDATE archive_records SET text = $3, prev_hash = $4, hash = $5 WHERE corp_id = $1 AND chain_seq = $2',
            [victim.corpId, record.chainSeq, record.text, prev, hash],
          );
          prev = hash;
        }
        await db.query(`UPDATE chain_tips SET hash = $2 WHERE corp_id = $1 AND chain = 'archive'`, [
          victim.corpId,
          prev,
        ]);
        await db.query(`DELETE FROM chain_heads WHERE corp_id = $1 AND chain = 'archive'`, [
          victim.corpId,
        ]);
      } finally {
        await db.query('ALTER TABLE archive_records ENABLE TRIGGER archive_records_append_only');
        await db.query('ALTER TABLE chain_heads ENABLE TRIGGER chain_heads_append_only');
      }
      const caught = await as(victimOfficer).get('/v1/archive/verify').expect(200);
      expect(caught.body.ok).toBe(false);
      expect(caught.body.archive.signedHeadsChecked).toBe(0);
      expect(caught.body.archive.firstBroken).toEqual({
        chainSeq: 3,
        reason: 'record 3 differs from the signed head at 3 (object storage)',
      });
    });
  });
});
