import { createHash, randomUUID } from 'node:crypto';
import { MESSAGING_ANNOUNCEMENT_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { ObjectStorage, storageConfigSchema } from '@qiwei/storage';
import { bearer, eventually } from '@qiwei/testing';
import { appConversationId } from '../src/archive/app-conversation';
import { ExportWorker } from '../src/exports/export-worker';
import { MediaArchiver } from '../src/media/media-archiver';
import {
  bootCompliance,
  type ComplianceTestApp,
  type TestCorp,
} from './support/compliance-test-app';
import {
  announcementPublishedEvent,
  announcementWithdrawnEvent,
  appRecalledEvent,
  appSentEvent,
  sentEvent,
} from './support/events';
import { unzip } from './support/zip';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const DAY = 86_400_000;
const KEYWORD = '合规红线';

interface Hit {
  chainSeq: number;
  kind: string;
  type: string;
  messageId: string | null;
  preMessageId: string | null;
  conversationId: string;
  conversationKind: string;
  sender: string;
  participants: string[];
  text: string;
  details: Record<string, unknown>;
  media: { filename: string }[];
  highlight: string | null;
}

/**
 * App messages (应用消息), announcements (公告) and every message type in the archive: archived
 * as records (recalls and withdrawals pointing at the original), searchable by what a person
 * reads, under alert rules of every scope, retention scopes and legal hold, exported.
 */
describe('compliance: app messages, announcements and every message type', () => {
  let compliance: ComplianceTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let sales: number;
  let officer: string;
  let salesOfficer: string;
  let member: string;
  let otherOfficer: string;
  const AGENT = 1000002;
  let appConversation: string;
  const group = randomUUID(); // alice, bob
  const single = randomUUID(); // alice, carol
  const externalGroup = randomUUID(); // alice and wm_cust
  const customerChat = randomUUID(); // alice and wm_cust, one to one
  const departmentGroup = randomUUID(); // alice, bob
  const ids = {
    single: randomUUID(),
    link: randomUUID(),
    location: randomUUID(),
    contactCard: randomUUID(),
    news: randomUUID(),
    markdown: randomUUID(),
    file: randomUUID(),
    video: randomUUID(),
    textcard: randomUUID(),
    appText: randomUUID(),
    announcement: randomUUID(),
  };
  const recipients = ['alice', 'bob', 'carol'];
  const fileBytes = Buffer.from('季度报告 PDF bytes');
  const videoBytes = Buffer.from('roadshow video bytes');
  const noticeBytes = Buffer.from('公告附件 bytes');
  const rules: Record<string, string> = {};

  beforeAll(async () => {
    compliance = await bootCompliance({ env: { EXPORT_WORKERS: '0' } });
    [corp, other] = await Promise.all([compliance.createCorp(), compliance.createCorp()]);
    appConversation = appConversationId(corp.corpId, AGENT);
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
    ]);
    const storage = new ObjectStorage(storageConfigSchema.parse(compliance.s3.env));
    await storage.ensureBucket('qiwei-messaging-media');
    const medium = async (key: string, bytes: Buffer, kind: string, filename: string) => {
      await storage.put('qiwei-messaging-media', key, bytes, bytes.length);
      return {
        mediaId: randomUUID(),
        kind,
        bucket: 'qiwei-messaging-media',
        objectKey: key,
        size: BigInt(bytes.length),
        sha256: sha256(bytes),
        filename,
        contentType: 'application/octet-stream',
      };
    };
    const file = await medium(`${corp.corpId}/report`, fileBytes, 'file', '合规红线-季度报告.pdf');
    const video = await medium(`${corp.corpId}/video`, videoBytes, 'video', 'roadshow.mp4');
    const attachment = await medium(`${corp.corpId}/notice`, noticeBytes, 'file', '公告附件.pdf');

    // Rules first: they run on ingest. One per scope, all on the same keyword.
    const rule = async (name: string, scope: object) => {
      const created = await as(officer)
        .post('/v1/archive/alert-rules', { name, kind: 'keyword', keywords: [KEYWORD], ...scope })
        .expect(201);
      rules[name] = created.body.id as string;
    };
    await rule('all', {});
    for (const kind of ['single', 'group', 'external', 'department', 'app', 'announcement'])
      await rule(kind, { conversationKinds: [kind] });
    await rule('external-only', { externalOnly: true });
    await rule('sales', { departments: [sales] });
    await rule('sales-groups', { conversationKinds: ['group'], departments: [sales] });
    await as(officer).put('/v1/archive/consents/wm_cust', { status: 'agree' }).expect(200);

    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      sentEvent(corp.corpId, single, 1, `${KEYWORD}：单聊`, {
        messageId: ids.single,
        participants: ['alice', 'carol'],
        kind: 'single',
        at: minutesAgo(60),
      }),
      sentEvent(corp.corpId, group, 1, '', {
        messageId: ids.link,
        sender: 'bob',
        at: minutesAgo(59),
        content: {
          type: 'link',
          link: {
            title: `${KEYWORD} 链接`,
            description: '内部资料',
            url: 'https://evil.example/pay',
            picUrl: '',
          },
        },
      }),
      sentEvent(corp.corpId, externalGroup, 1, '', {
        messageId: ids.location,
        participants: ['alice'],
        externalParticipants: ['wm_cust'],
        kind: 'external',
        at: minutesAgo(58),
        content: {
          type: 'location',
          location: {
            latitude: 31.2397,
            longitude: 121.4905,
            name: `${KEYWORD} 咖啡馆`,
            address: '上海市中山东一路1号',
          },
        },
      }),
      sentEvent(corp.corpId, departmentGroup, 1, '', {
        messageId: ids.contactCard,
        sender: 'bob',
        kind: 'department',
        at: minutesAgo(57),
        content: {
          type: 'contact_card',
          contactCard: { userid: 'carol', name: `${KEYWORD} 卡片` },
        },
      }),
      sentEvent(corp.corpId, customerChat, 1, '', {
        messageId: ids.news,
        participants: ['alice'],
        externalParticipants: ['wm_cust'],
        kind: 'single',
        at: minutesAgo(56),
        content: {
          type: 'news',
          articles: [
            {
              title: `${KEYWORD} 周报`,
              description: '收益翻倍',
              url: 'https://news.example/1',
              picurl: '',
            },
          ],
        },
      }),
      sentEvent(corp.corpId, group, 2, `**${KEYWORD}** markdown`, {
        messageId: ids.markdown,
        at: minutesAgo(55),
        content: { type: 'markdown' },
      }),
      sentEvent(corp.corpId, group, 3, '', {
        messageId: ids.file,
        sender: 'bob',
        at: minutesAgo(54),
        content: { type: 'file', media: file },
      }),
      sentEvent(corp.corpId, group, 4, '', {
        messageId: ids.video,
        sender: 'bob',
        at: minutesAgo(53),
        content: {
          type: 'video',
          media: video,
          caption: { title: `${KEYWORD} 路演`, description: 'Q3 roadshow' },
        },
      }),
      appSentEvent(corp.corpId, {
        msgid: ids.textcard,
        agentid: AGENT,
        recipients,
        at: minutesAgo(52),
        content: {
          type: 'textcard',
          textcard: {
            title: '领奖通知',
            description: `<div class="gray">2025年3月1日</div><div class="normal">${KEYWORD} 请于周五前领取</div>`,
            url: 'https://prize.example/claim',
            btntxt: '详情',
          },
        },
      }),
      appSentEvent(corp.corpId, {
        msgid: ids.appText,
        agentid: AGENT,
        recipients: ['carol'],
        at: minutesAgo(51),
        content: { type: 'text', text: '普通应用消息' },
      }),
      appRecalledEvent(corp.corpId, {
        msgid: ids.textcard,
        agentid: AGENT,
        recipients,
        sentAt: minutesAgo(52),
        at: minutesAgo(50),
      }),
    ]);
    await compliance.publish(MESSAGING_ANNOUNCEMENT_TOPIC, [
      announcementPublishedEvent(corp.corpId, {
        id: ids.announcement,
        publisher: 'admin',
        title: `${KEYWORD} 公告`,
        body: '请全员知悉：**禁止**私下承诺收益。',
        attachments: [attachment],
        recipients: ['admin', ...recipients],
        at: minutesAgo(49),
      }),
      announcementWithdrawnEvent(corp.corpId, {
        id: ids.announcement,
        by: 'admin',
        at: minutesAgo(48),
      }),
    ]);
    // 11 messages, the app's recall and the withdrawal; then 3 media copies' records.
    await compliance.archived(corp.corpId, 13);
    await compliance.app.get(MediaArchiver).runOnce();
    await eventually(async () => {
      const [row] = await compliance
        .db()
        .query<{ n: string }[]>(
          `SELECT count(*) AS n FROM archive_records WHERE corp_id = $1 AND kind = 'media'`,
          [corp.corpId],
        );
      if (Number(row.n) < 3) throw new Error(`${row.n} of 3 media records`);
    });
  }, 240_000);
  afterAll(() => compliance?.close());

  const as = (token: string) => bearer(compliance, token);
  const search = async (body: object, token = officer): Promise<Hit[]> =>
    (
      await as(token)
        .post('/v1/archive/search', { limit: 100, ...body })
        .expect(200)
    ).body.items as Hit[];
  const count = async (sql: string, params: unknown[] = [corp.corpId]) => {
    const [row] = await compliance.db().query<{ n: string }[]>(sql, params);
    return Number(row.n);
  };

  it('archives an app message to many recipients as one record, and its recall as a record pointing at it', async () => {
    const hits = await search({ conversationId: appConversation });
    expect(hits.map((h) => [h.kind, h.type, h.messageId ?? h.preMessageId])).toEqual([
      ['recall', 'recall', ids.textcard],
      ['message', 'text', ids.appText],
      ['message', 'textcard', ids.textcard],
    ]);
    const [recall, , card] = hits;
    expect(card).toMatchObject({
      conversationKind: 'app',
      sender: `app:${AGENT}`,
      participants: recipients,
      text: '',
      details: {
        agentid: AGENT,
        textcard: { title: '领奖通知', url: 'https://prize.example/claim', btntxt: '详情' },
      },
    });
    expect(recall).toMatchObject({
      conversationKind: 'app',
      sender: `app:${AGENT}`,
      participants: recipients,
      details: { recalledBy: `app:${AGENT}`, agentid: AGENT },
    });
    // One record for all three recipients; a recipient finds it as a participant.
    expect(
      await count(
        'SELECT count(*) AS n FROM archive_records WHERE corp_id = $1 AND message_id = $2',
        [corp.corpId, ids.textcard],
      ),
    ).toBe(1);
    const carols = await search({ participant: 'carol', conversationId: appConversation });
    expect(carols.map((h) => h.messageId ?? h.preMessageId)).toEqual([
      ids.textcard,
      ids.appText,
      ids.textcard,
    ]);
    expect((await search({ participant: 'dave', conversationId: appConversation })).length).toBe(0);

    // The app's conversation, in order.
    const view = await as(officer).get(`/v1/archive/conversations/${appConversation}`).expect(200);
    expect(view.body.conversation).toMatchObject({ id: appConversation, kind: 'app' });
    expect(view.body.records.map((r: Hit) => r.type)).toEqual(['textcard', 'text', 'recall']);

    // Redelivered: archived once.
    const id = randomUUID();
    const again = appSentEvent(corp.corpId, {
      id,
      msgid: randomUUID(),
      agentid: AGENT,
      recipients: ['alice'],
      at: minutesAgo(47),
      content: { type: 'text', text: '只归档一次' },
    });
    const after = appSentEvent(corp.corpId, {
      msgid: randomUUID(),
      agentid: AGENT,
      recipients: ['alice'],
      at: minutesAgo(46),
      content: { type: 'text', text: '其后' },
    });
    const [before] = await compliance
      .db()
      .query<{ n: string }[]>('SELECT count(*) AS n FROM archive_records WHERE corp_id = $1', [
        corp.corpId,
      ]);
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [again, again, after]);
    await compliance.archived(corp.corpId, Number(before.n) + 2);
    expect(
      await count(
        'SELECT count(*) AS n FROM archive_records WHERE corp_id = $1 AND event_id = $2',
        [corp.corpId, id],
      ),
    ).toBe(1);
    const verified = await as(officer).get('/v1/archive/verify').expect(200);
    expect(verified.body.archive).toMatchObject({ ok: true, firstBroken: null });
  });

  it('archives an announcement with its attachment and recipients, and its withdrawal pointing at it', async () => {
    const hits = await search({ conversationId: ids.announcement });
    expect(hits.map((h) => [h.kind, h.type])).toEqual([
      ['recall', 'recall'],
      ['message', 'announcement'],
    ]);
    const [withdrawal, announcement] = hits;
    expect(announcement).toMatchObject({
      messageId: ids.announcement,
      conversationKind: 'announcement',
      sender: 'admin',
      participants: ['admin', ...recipients],
      text: '请全员知悉：**禁止**私下承诺收益。',
      details: {
        title: `${KEYWORD} 公告`,
        format: 'markdown',
        priority: 'important',
        noForward: true,
        targets: { all: false, userids: ['admin', ...recipients] },
        expiresAt: null,
      },
      media: [expect.objectContaining({ filename: '公告附件.pdf' })],
    });
    expect(withdrawal).toMatchObject({
      preMessageId: ids.announcement,
      conversationKind: 'announcement',
      sender: 'admin',
      participants: ['admin', ...recipients],
      details: { recalledBy: 'admin' },
    });
    // Its attachment copied into the archive's bucket and verified, like any message's media.
    const [copy] = await compliance.db().query<{ status: string; message_id: string }[]>(
      `SELECT m.status, m.message_id FROM archive_media m JOIN archive_records r
            ON r.corp_id = m.corp_id AND r.chain_seq = m.record_seq
          WHERE m.corp_id = $1 AND r.message_id = $2`,
      [corp.corpId, ids.announcement],
    );
    expect(copy).toEqual({ status: 'archived', message_id: ids.announcement });
    const view = await as(officer).get(`/v1/archive/conversations/${ids.announcement}`).expect(200);
    expect(view.body.conversation).toEqual({
      id: ids.announcement,
      kind: 'announcement',
      name: `${KEYWORD} 公告`,
      participants: ['admin', ...recipients],
    });
    expect(view.body.records.map((r: Hit) => r.kind)).toEqual(['message', 'media', 'recall']);
  });

  it('finds every message type by the words a person reads, with highlights, and confirms phrases', async () => {
    const cases: [object, string[]][] = [
      [{ all: ['evil.example'] }, [ids.link]],
      [{ all: ['内部资料'] }, [ids.link]],
      [{ all: ['咖啡馆'] }, [ids.location]],
      [{ phrases: ['上海市中山东一路'] }, [ids.location]],
      [{ all: ['卡片'] }, [ids.contactCard]],
      [{ all: ['周报'] }, [ids.news]],
      [{ all: ['收益翻倍'] }, [ids.news]],
      [{ all: ['markdown'] }, [ids.markdown]],
      [{ all: ['季度报告'] }, [ids.file]],
      [{ all: ['roadshow'] }, [ids.video]],
      [{ all: ['路演'] }, [ids.video]],
      [{ all: ['领奖通知'] }, [ids.textcard]],
      [{ phrases: ['请于周五前领取'] }, [ids.textcard]],
      [{ all: ['prize'] }, [ids.textcard]],
      [{ phrases: [`${KEYWORD} 公告`] }, [ids.announcement]],
      [{ all: ['私下承诺收益'] }, [ids.announcement]],
      [{ all: ['公告附件'] }, [ids.announcement]],
      [{ any: ['咖啡馆', '周报'] }, [ids.news, ids.location]],
      [
        { all: [KEYWORD], exclude: ['路演', '卡片'] },
        [
          ids.announcement,
          ids.textcard,
          ids.file,
          ids.markdown,
          ids.news,
          ids.location,
          ids.link,
          ids.single,
        ],
      ],
      // A text card's tags are markup, not text.
      [{ all: ['gray'] }, []],
    ];
    for (const [keywords, expected] of cases) {
      const found = (await search({ keywords })).map((h) => h.messageId);
      expect([keywords, found]).toEqual([keywords, expected]);
    }
    const [location] = await search({ keywords: { all: ['咖啡馆'] } });
    expect(location.highlight).toContain('<em>咖啡馆</em>');
    const [card] = await search({ keywords: { all: ['领奖通知'] }, sort: 'relevance' });
    expect(card.highlight).toContain('<em>领奖通知</em>');
    expect(card.highlight).not.toContain('gray');
    // Every message of every kind that carries the keyword, and nothing else.
    const all = await search({ keywords: { all: [KEYWORD] } });
    expect(all.map((h) => h.messageId).sort()).toEqual(
      [
        ids.single,
        ids.link,
        ids.location,
        ids.contactCard,
        ids.news,
        ids.markdown,
        ids.file,
        ids.video,
        ids.textcard,
        ids.announcement,
      ].sort(),
    );
  });

  it('finds media messages by file name and type; media outcomes when their kind is named', async () => {
    expect((await search({ types: ['file'] })).map((h) => h.messageId)).toEqual([ids.file]);
    expect(
      (await search({ keywords: { all: ['pdf'] }, types: ['file'] })).map((h) => h.messageId),
    ).toEqual([ids.file]);
    expect(
      (await search({ keywords: { all: ['pdf'] }, types: ['announcement'] })).map(
        (h) => h.messageId,
      ),
    ).toEqual([ids.announcement]);
    expect(
      (await search({ types: ['video'], keywords: { phrases: ['roadshow.mp4'] } })).map(
        (h) => h.messageId,
      ),
    ).toEqual([ids.video]);
    expect(
      (await search({ hasAttachment: true, kinds: ['message'] })).map((h) => h.messageId).sort(),
    ).toEqual([ids.file, ids.video, ids.announcement].sort());
    // A search naming no kind finds what people said and did, not the copies' outcomes.
    expect((await search({})).some((h) => h.kind === 'media' || h.kind === 'tombstone')).toBe(
      false,
    );
    const outcomes = await search({ kinds: ['media'] });
    expect(outcomes.map((h) => [h.type, h.messageId, h.details.verified]).sort()).toEqual(
      [
        ['media.archived', ids.announcement, true],
        ['media.archived', ids.file, true],
        ['media.archived', ids.video, true],
      ].sort(),
    );
    expect(
      (await search({ kinds: ['media'], types: ['media.fault'] })).map((h) => h.messageId),
    ).toEqual([]);
    expect(
      (await search({ kinds: ['media'], conversationId: group })).map((h) => h.messageId).sort(),
    ).toEqual([ids.file, ids.video].sort());
    // An officer covering 销售部 sees the outcomes of bob's media, not the announcement's.
    expect(
      (await search({ kinds: ['media'] }, salesOfficer)).map((h) => h.messageId).sort(),
    ).toEqual([ids.file, ids.video].sort());
    // Apps are in no department: their messages are for officers of the whole corp.
    expect(await search({ conversationId: appConversation }, salesOfficer)).toEqual([]);
  });

  it('raises alerts within each rule’s scope: every conversation kind, external chats only, the senders’ departments', async () => {
    const hitsOf = async (rule: string) =>
      (
        (await as(officer).get(`/v1/archive/alerts?ruleId=${rules[rule]}&limit=100`).expect(200))
          .body.items as { messageId: string; conversationKind: string; matchedText: string }[]
      )
        .map((a) => a.messageId)
        .sort();
    const expected: Record<string, string[]> = {
      all: [
        ids.single,
        ids.link,
        ids.location,
        ids.contactCard,
        ids.news,
        ids.markdown,
        ids.file,
        ids.video,
        ids.textcard,
        ids.announcement,
      ],
      single: [ids.single, ids.news],
      group: [ids.link, ids.markdown, ids.file, ids.video],
      external: [ids.location],
      department: [ids.contactCard],
      app: [ids.textcard],
      announcement: [ids.announcement],
      'external-only': [ids.location, ids.news],
      sales: [ids.link, ids.contactCard, ids.file, ids.video],
      'sales-groups': [ids.link, ids.file, ids.video],
    };
    for (const [rule, messages] of Object.entries(expected))
      expect([rule, await hitsOf(rule)]).toEqual([rule, [...messages].sort()]);
    const [textcardAlert] = (
      await as(officer).get(`/v1/archive/alerts?ruleId=${rules.app}`).expect(200)
    ).body.items as { matchedText: string; conversationKind: string; sender: string }[];
    expect(textcardAlert).toMatchObject({
      matchedText: KEYWORD,
      conversationKind: 'app',
      sender: `app:${AGENT}`,
    });
    const listed = await as(officer).get(`/v1/archive/alert-rules/${rules['sales-groups']}`);
    expect(listed.body).toMatchObject({
      conversationKinds: ['group'],
      externalOnly: false,
      departments: [sales],
    });
    // Scopes change like the rest of a rule, and are recorded.
    const changed = await as(officer)
      .patch(`/v1/archive/alert-rules/${rules['sales-groups']}`, {
        externalOnly: true,
        departments: [],
        conversationKinds: ['external', 'single'],
      })
      .expect(200);
    expect(changed.body).toMatchObject({
      conversationKinds: ['external', 'single'],
      externalOnly: true,
      departments: [],
    });
    const log = await as(corp.adminToken)
      .get('/v1/archive/access-log?action=alert_rule.updated&limit=1')
      .expect(200);
    expect(log.body.items[0].query).toMatchObject({ externalOnly: true, departments: [] });
  });

  it('exports app messages and announcements with what a person reads in the CSV', async () => {
    const created = await as(officer)
      .post('/v1/archive/exports', {
        filter: { keywords: { any: ['领奖通知', '私下承诺收益'] } },
        includeMedia: false,
      })
      .expect(202);
    await compliance.app.get(ExportWorker).runOnce();
    const done = await as(officer).get(`/v1/archive/exports/${created.body.id}`).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', progress: { records: 2 } });
    const link = await as(officer)
      .post(`/v1/archive/exports/${created.body.id}/download`)
      .expect(200);
    const zip = Buffer.from(await (await fetch(link.body.url as string)).arrayBuffer());
    expect(sha256(zip)).toBe(link.body.sha256);
    const text = ((await unzip(zip)).get('records.csv') as Buffer).toString('utf8');
    const [header, ...rows] = text.replace('\uFEFF', '').trim().split('\r\n');
    expect(header.split(',')).toContain('content');
    expect(rows).toHaveLength(2);
    expect(text).toContain('领奖通知');
    expect(text).toContain('https://prize.example/claim');
    expect(text).toContain(`${KEYWORD} 公告`);
  });

  it('keeps app messages and announcements by their own retention scopes, and holds them under a matter', async () => {
    const old = new Date(Date.now() - 400 * DAY);
    const toCarol = randomUUID();
    const toDave = randomUUID();
    const oldNotice = randomUUID();
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      appSentEvent(corp.corpId, {
        msgid: toCarol,
        agentid: 1000003,
        recipients: ['carol'],
        at: old,
        content: { type: 'text', text: '去年给卡罗尔的应用消息' },
      }),
      appSentEvent(corp.corpId, {
        msgid: toDave,
        agentid: 1000003,
        recipients: ['dave'],
        at: new Date(old.getTime() + 1000),
        content: { type: 'text', text: '去年给戴夫的应用消息' },
      }),
    ]);
    await compliance.publish(MESSAGING_ANNOUNCEMENT_TOPIC, [
      announcementPublishedEvent(corp.corpId, {
        id: oldNotice,
        publisher: 'admin',
        title: '去年的公告',
        body: '去年的公告正文',
        recipients: ['alice'],
        at: old,
      }),
    ]);
    await eventually(async () => {
      const n = await count(
        'SELECT count(*) AS n FROM archive_records WHERE corp_id = $1 AND message_id = ANY($2)',
        [corp.corpId, [toCarol, toDave, oldNotice]],
      );
      if (n < 3) throw new Error(`${n} of 3 archived`);
    });
    for (const [scope, days] of [
      ['app', 30],
      ['announcement', 3650],
    ] as const)
      await as(corp.adminToken)
        .put(`/v1/archive/retention/policies/${scope}`, { retainDays: days })
        .expect(200);
    const bad = await as(corp.adminToken).put('/v1/archive/retention/policies/robot', {
      retainDays: 30,
    });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const matter = await as(officer)
      .post('/v1/archive/matters', { name: '卡罗尔的应用消息', custodians: ['carol'] })
      .expect(201);
    const purge = await as(corp.adminToken).post('/v1/archive/retention/purge').expect(200);
    expect(purge.body).toMatchObject({ purged: 1, tombstones: 1, held: 1 });
    const app3 = appConversationId(corp.corpId, 1000003);
    expect((await search({ conversationId: app3 })).map((h) => h.messageId)).toEqual([toCarol]);
    expect((await search({ conversationId: oldNotice })).map((h) => h.messageId)).toEqual([
      oldNotice,
    ]);
    expect(await search({ keywords: { all: ['戴夫'] } })).toEqual([]);
    const detail = await as(officer).get(`/v1/archive/matters/${matter.body.id}`).expect(200);
    expect(detail.body.heldRecords).toBeGreaterThanOrEqual(1);
    const verified = await as(officer).get('/v1/archive/verify').expect(200);
    expect(verified.body.archive).toMatchObject({ ok: true, purged: 1, firstBroken: null });
  });

  it('sends app and announcement events no retry can archive to the dead-letter topics', async () => {
    const marker = `poison-${randomUUID()}`;
    const agent = 1_000_999;
    await compliance.publish(MESSAGING_MESSAGE_TOPIC, [
      appSentEvent(corp.corpId, {
        msgid: 'not a msgid!',
        agentid: agent,
        recipients: ['alice'],
        at: new Date(),
        content: { type: 'text', text: marker },
      }),
      appSentEvent(other.corpId, {
        msgid: randomUUID(),
        agentid: 0,
        recipients: ['alice'],
        at: new Date(),
        content: { type: 'text', text: marker },
      }),
      {
        ...appRecalledEvent(corp.corpId, {
          msgid: randomUUID(),
          agentid: agent,
          recipients: [],
          sentAt: new Date(),
          at: new Date(),
        }),
        tenant: other.corpId,
      },
    ]);
    const notice = 'not-a-uuid';
    await compliance.publish(MESSAGING_ANNOUNCEMENT_TOPIC, [
      announcementPublishedEvent(corp.corpId, {
        id: notice,
        publisher: 'admin',
        title: marker,
        body: marker,
        recipients: ['alice'],
        at: new Date(),
      }),
    ]);
    const seen: string[] = [];
    const consumer = createKafka({ brokers: compliance.brokers, clientId: 'dlq-reader' }).consumer({
      groupId: `dlq-reader-${randomUUID()}`,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({
        topics: [`${MESSAGING_MESSAGE_TOPIC.name}.dlq`, `${MESSAGING_ANNOUNCEMENT_TOPIC.name}.dlq`],
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const key = String(message.key);
          if (key === `app/${agent}` || key === 'app/0' || key === notice)
            seen.push(String(message.headers?.dlq_error));
        },
      });
      await eventually(() => {
        if (seen.length < 4) throw new Error(`${seen.length} of 4 dead letters`);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.some((e) => /app message id "not a msgid!" is not valid/.test(e))).toBe(true);
    expect(seen.some((e) => /agentid 0 is not an app's id/.test(e))).toBe(true);
    expect(seen.some((e) => /tenant header and payload disagree/.test(e))).toBe(true);
    expect(seen.some((e) => /conversation id "not-a-uuid" is not a UUID/.test(e))).toBe(true);
    expect(
      await count(
        `SELECT count(*) AS n FROM archive_records WHERE text = $1 OR details ->> 'title' = $1`,
        [marker],
      ),
    ).toBe(0);
  });

  it('refuses bad scopes and kinds, unauthorised callers and other corps, changing nothing', async () => {
    const rulesBefore = await count('SELECT count(*) AS n FROM alert_rules WHERE corp_id = $1');
    const logBefore = await count('SELECT count(*) AS n FROM access_log WHERE corp_id = $1');
    const base = { name: 'x', kind: 'keyword', keywords: ['a'] };
    for (const body of [
      { ...base, conversationKinds: ['channel'] },
      { ...base, conversationKinds: ['app', 'app'] },
      { ...base, conversationKinds: 'app' },
      { ...base, externalOnly: 'yes' },
      { ...base, departments: [0] },
      { ...base, departments: ['销售部'] },
      { ...base, departments: Array.from({ length: 51 }, (_, i) => i + 1) },
      { ...base, departments: [2_147_483_648] },
    ]) {
      const res = await as(officer).post('/v1/archive/alert-rules', body);
      expect([res.status, res.body.code, body]).toEqual([400, 'VALIDATION_FAILED', body]);
    }
    for (const body of [{ externalOnly: 1 }, { departments: [-3] }, { conversationKinds: [''] }]) {
      const res = await as(officer).patch(`/v1/archive/alert-rules/${rules.all}`, body);
      expect([res.status, res.body.code, body]).toEqual([400, 'VALIDATION_FAILED', body]);
    }
    for (const kinds of [['bogus'], ['message', 1], 'media'] as unknown[]) {
      const res = await as(officer).post('/v1/archive/search', { kinds });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const refused = await as(member).post('/v1/archive/alert-rules', {
      ...base,
      conversationKinds: ['app'],
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    expect((await compliance.http().post('/v1/archive/alert-rules').send(base)).status).toBe(401);
    expect(await count('SELECT count(*) AS n FROM alert_rules WHERE corp_id = $1')).toBe(
      rulesBefore,
    );
    expect(await count('SELECT count(*) AS n FROM access_log WHERE corp_id = $1')).toBe(logBefore);
    // Another corp's officer finds none of this corp's apps or announcements.
    expect(await search({ conversationId: appConversation }, otherOfficer)).toEqual([]);
    expect(await search({ keywords: { all: ['领奖通知'] } }, otherOfficer)).toEqual([]);
    expect(await search({ kinds: ['media', 'tombstone'] }, otherOfficer)).toEqual([]);
    const view = await as(otherOfficer).get(`/v1/archive/conversations/${ids.announcement}`);
    expect([view.status, view.body.code]).toEqual([404, 'ARCHIVED_CONVERSATION_NOT_FOUND']);
  });
});
