import { bearer, eventually } from '@qiwei/testing';
import { DataSource } from 'typeorm';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

type Hit = {
  conversation: { id: string; kind: string; name: string };
  message: { seq: number; sender: string; text: string; type: string };
  highlights: { start: number; end: number }[];
};

describe('messaging: members search their own conversations', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;
  let team: string;
  let others: string;
  let direct: string;

  const as = (token: string) => bearer(messaging, token);
  let counter = 0;
  const say = async (token: string, conversationId: string, text: string) =>
    (
      await as(token)
        .post(`/v1/conversations/${conversationId}/messages`, {
          clientMsgId: `s${++counter}`,
          type: 'text',
          text,
        })
        .expect(201)
    ).body as { seq: number; id: string };
  const search = async (token: string, query: Record<string, string>) => {
    const response = await as(token)
      .get(`/v1/messages/search?${new URLSearchParams(query).toString()}`)
      .expect(200);
    return response.body as { items: Hit[]; nextCursor: string | null };
  };
  const texts = (page: { items: Hit[] }) => page.items.map((h) => h.message.text);
  const backdate = (id: string, at: string) =>
    messaging.app.get(DataSource).query('UPDATE messages SET sent_at = $2 WHERE id = $1', [id, at]);

  beforeAll(async () => {
    messaging = await bootMessaging();
    corp = await messaging.createCorp();
    [alice, bob, carol] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
    team = (
      await as(alice)
        .post('/v1/conversations', { kind: 'group', name: '产品组', members: ['bob', 'carol'] })
        .expect(201)
    ).body.id;
    others = (
      await as(bob)
        .post('/v1/conversations', { kind: 'group', name: '没有 alice 的群', members: ['carol'] })
        .expect(201)
    ).body.id;
    direct = (
      await as(alice).post('/v1/conversations', { kind: 'single', peer: 'bob' }).expect(201)
    ).body.id;
    const sent = [
      [bob, team, '这款理财产品收益很高', '2025-03-01T09:00:00Z'],
      [carol, team, '明天下午三点开会讨论 iPhone15 的报价', '2025-03-02T09:00:00Z'],
      [bob, team, '理财 财产 产品 三个词分开写', '2025-03-03T09:00:00Z'],
      [bob, others, '理财的事别告诉 alice', '2025-03-04T09:00:00Z'],
      [alice, direct, 'Call 13800138000 about order ORD-2024-0001', '2025-03-05T09:00:00Z'],
      [bob, direct, '好的，理财报价下周给你', '2025-03-06T09:00:00Z'],
    ] as const;
    for (const [token, conversationId, text, at] of sent)
      await backdate((await say(token, conversationId, text)).id, at);
  }, 120_000);
  afterAll(() => messaging?.close());

  it('finds Chinese inside unspaced text, only in the caller’s conversations, newest first, with highlights', async () => {
    const page = await search(alice, { q: '理财' });
    expect(texts(page)).toEqual([
      '好的，理财报价下周给你',
      '理财 财产 产品 三个词分开写',
      '这款理财产品收益很高',
    ]);
    expect(page.items[0]).toMatchObject({
      conversation: { id: direct, kind: 'single', name: '' },
      message: { sender: 'bob' },
      highlights: [{ start: 3, end: 5 }],
    });
    expect(page.items[2].conversation).toEqual({ id: team, kind: 'group', name: '产品组' });
    // Every bigram of 理财产品 is in the third message, but not the word: confirmed literally.
    expect(texts(await search(alice, { q: '理财产品' }))).toEqual(['这款理财产品收益很高']);
    expect(texts(await search(alice, { q: '产品理财' }))).toEqual([]);
    expect(texts(await search(alice, { q: '理财 报价' }))).toEqual(['好的，理财报价下周给你']);
    expect(texts(await search(alice, { q: '钱' }))).toEqual([]);
    expect(texts(await search(alice, { q: '高' }))).toEqual(['这款理财产品收益很高']);
    // bob also sees the group alice is not in.
    expect(texts(await search(bob, { q: '理财' }))).toContain('理财的事别告诉 alice');
  });

  it('finds Latin words case-insensitively, digit runs and ids', async () => {
    expect(texts(await search(bob, { q: 'IPHONE15' }))).toEqual([
      '明天下午三点开会讨论 iPhone15 的报价',
    ]);
    expect(texts(await search(bob, { q: '13800138000' }))).toHaveLength(1);
    expect(texts(await search(bob, { q: 'ORD 2024' }))).toEqual([
      'Call 13800138000 about order ORD-2024-0001',
    ]);
    const hit = (await search(bob, { q: 'call ORD' })).items[0];
    // Literal, case-insensitive occurrences: `ord` inside "order" too.
    expect(hit.highlights).toEqual([
      { start: 0, end: 4 },
      { start: 23, end: 26 },
      { start: 29, end: 32 },
    ]);
  });

  it('filters by sender, conversation, type and time, and pages with a cursor', async () => {
    expect(texts(await search(alice, { sender: 'carol' }))).toEqual([
      '明天下午三点开会讨论 iPhone15 的报价',
    ]);
    expect(texts(await search(alice, { q: '理财', conversationId: team, sender: 'bob' }))).toEqual([
      '理财 财产 产品 三个词分开写',
      '这款理财产品收益很高',
    ]);
    expect(
      texts(await search(alice, { from: '2025-03-02T00:00:00Z', to: '2025-03-05T09:00:00Z' })),
    ).toEqual(['理财 财产 产品 三个词分开写', '明天下午三点开会讨论 iPhone15 的报价']);
    expect(texts(await search(alice, { q: '理财', from: '2025-03-05T00:00:00Z' }))).toEqual([
      '好的，理财报价下周给你',
    ]);
    expect(texts(await search(alice, { conversationId: others }))).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Hit[]; nextCursor: string | null } = await search(alice, {
        type: 'text',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...texts(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      '好的，理财报价下周给你',
      'Call 13800138000 about order ORD-2024-0001',
      '理财 财产 产品 三个词分开写',
      '明天下午三点开会讨论 iPhone15 的报价',
      '这款理财产品收益很高',
    ]);
  });

  it('finds locations and links by their words', async () => {
    await as(carol)
      .post(`/v1/conversations/${team}/messages`, {
        clientMsgId: 'place-1',
        type: 'location',
        location: { latitude: 31.2354, longitude: 121.5055, name: '上海中心', address: '陆家嘴' },
      })
      .expect(201);
    await as(carol)
      .post(`/v1/conversations/${team}/messages`, {
        clientMsgId: 'link-1',
        type: 'link',
        link: { title: 'Quarterly Report', url: 'https://example.com/q1' },
      })
      .expect(201);
    const place = await search(alice, { q: '陆家嘴', type: 'location' });
    expect(place.items.map((h) => h.message.type)).toEqual(['location']);
    expect(place.items[0].highlights).toEqual([]);
    expect((await search(alice, { q: 'quarterly' })).items.map((h) => h.message.type)).toEqual([
      'link',
    ]);
  });

  it('keeps what a former member could see, and nothing sent after they left; never recalled messages', async () => {
    await as(carol).delete(`/v1/conversations/${team}/members/carol`).expect(200);
    await say(alice, team, '理财 新方案只给现在的成员');
    const gone = await search(carol, { q: '理财', conversationId: team });
    expect(texts(gone)).toEqual(['理财 财产 产品 三个词分开写', '这款理财产品收益很高']);
    await as(alice)
      .post(`/v1/conversations/${team}/members`, { userids: ['carol'] })
      .expect(200);
    expect(texts(await search(carol, { q: '新方案' }))).toEqual(['理财 新方案只给现在的成员']);

    const oops = await say(bob, team, '理财密码是 123456');
    expect(texts(await search(alice, { q: '123456' }))).toHaveLength(1);
    await as(bob).post(`/v1/conversations/${team}/messages/${oops.seq}/recall`).expect(200);
    expect(texts(await search(alice, { q: '123456' }))).toEqual([]);
  });

  it('indexes messages sent before search existed, in the background', async () => {
    const old = await say(alice, direct, '历史消息里的关键字 legacy');
    await messaging.app
      .get(DataSource)
      .query('UPDATE messages SET search_terms = NULL WHERE id = $1', [old.id]);
    expect(texts(await search(alice, { q: 'legacy' }))).toEqual([]);
    // Found by sender and time meanwhile.
    expect(texts(await search(alice, { sender: 'alice', conversationId: direct }))).toContain(
      '历史消息里的关键字 legacy',
    );
    // An instance starting up indexes what it finds unindexed.
    await messaging.startInstance();
    await eventually(async () => {
      expect(texts(await search(alice, { q: '关键字 legacy' }))).toEqual([
        '历史消息里的关键字 legacy',
      ]);
    });
  });

  it('refuses bad input, apps and strangers, and shows other corps nothing', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'SEARCH_CRITERIA_REQUIRED'],
      [{ limit: '10' }, 'SEARCH_CRITERIA_REQUIRED'],
      [{ q: '' }, 'isLength'],
      [{ q: 'x'.repeat(201) }, 'isLength'],
      [{ q: '，。！ ？' }, 'KEYWORD_NOT_SEARCHABLE'],
      [{ q: 'a b c d e f g h i j k' }, 'TOO_MANY_KEYWORDS'],
      [{ q: '理财', from: 'yesterday' }, 'isIso8601'],
      [{ q: '理财', from: '2025-03-05T00:00:00Z', to: '2025-03-01T00:00:00Z' }, 'TIME_RANGE_EMPTY'],
      [{ q: '理财', limit: '0' }, 'min'],
      [{ q: '理财', limit: '101' }, 'max'],
      [{ q: '理财', limit: 'ten' }, 'isInt'],
      [{ q: '理财', conversationId: 'not-a-uuid' }, 'isUuid'],
      [{ q: '理财', sender: 'bad sender!' }, 'matches'],
      [{ q: '理财', type: 'sticker' }, 'isIn'],
      [{ q: '理财', cursor: 'bogus' }, 'INVALID_CURSOR'],
      [{ q: '理财', unknown: '1' }, 'whitelistValidation'],
    ];
    for (const [query, code] of cases) {
      const response = await as(alice).get(
        `/v1/messages/search?${new URLSearchParams(query).toString()}`,
      );
      const body = response.body as { code: string; errors?: { code: string }[] };
      const codes = [body.code, ...(body.errors ?? []).map((e) => e.code)];
      expect([response.status, codes.includes(code), query]).toEqual([400, true, query]);
    }
    await messaging.http().get('/v1/messages/search?q=理财').expect(401);
    await as('not.a.jwt').get('/v1/messages/search?q=理财').expect(401);
    const app = await corp.app({ departmentIds: [1], userids: [], tagIds: [] });
    const refused = await as(app.token).get('/v1/messages/search?q=理财').expect(403);
    expect(refused.body.code).toBe('MEMBER_TOKEN_REQUIRED');
    const other = await messaging.createCorp();
    const stranger = await other.member('alice'); // the same userid, another corp
    expect((await search(stranger, { q: '理财' })).items).toEqual([]);
    expect((await search(stranger, { conversationId: team })).items).toEqual([]);
  });
});
