import { bearer } from '@qiwei/testing';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { METRICS_REGISTRY } from '@qiwei/platform';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  bootMessaging,
  eventsOf,
  type MessagingTestApp,
  type TestCorp,
} from './messaging-test-app';

/**
 * A member's send is one transaction in two round trips: the sequence number is taken by the
 * statement sent with BEGIN, the message and its outbox event are written by the statements sent
 * with COMMIT, with their values written into the SQL. These cover what that must not change:
 * any text arrives intact, refusals leave no trace and no gap, concurrent sends are numbered
 * gap-free, and a resend is answered with the first message. Concurrent sends are committed
 * in batches (group commit): each one is still accepted or refused on its own.
 */
describe('messaging: the send path', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let db: DataSource;
  let alice: string;
  let bob: string;
  let counter = 0;

  beforeAll(async () => {
    // One send transaction in flight at a time: concurrent sends queue and commit in batches.
    messaging = await bootMessaging({ SEND_BATCH_CONCURRENCY: '1', MESSAGE_TEXT_MAX_BYTES: '100' });
    corp = await messaging.createCorp();
    [alice, bob] = await Promise.all([corp.member('alice'), corp.member('bob')]);
    await corp.member('carol');
    db = messaging.app.get(DataSource);
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  const send = (token: string, id: string, extra: object = {}) =>
    as(token).post(`/v1/conversations/${id}/messages`, {
      clientMsgId: `p${++counter}`,
      type: 'text',
      text: `消息 ${counter}`,
      ...extra,
    });
  const rows = async (id: string) =>
    db.query<{ seq: string; text: string }[]>(
      'SELECT seq, text FROM messages WHERE corp_id = $1 AND conversation_id = $2 ORDER BY seq',
      [corp.corpId, id],
    );
  const outboxCount = async (id: string) =>
    (
      await db.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM event_outbox WHERE partition_key = $1 AND topic = $2',
        [id, MESSAGING_MESSAGE_TOPIC.name],
      )
    )[0].n;

  it('keeps any text intact: quotes, backslashes, SQL, placeholders, Chinese, emoji, newlines', async () => {
    const c = (
      await as(alice).post('/v1/conversations', { kind: 'single', peer: 'bob' }).expect(201)
    ).body as { id: string };
    const texts = [
      `it's a "quote" \\ back\\\\slash '' \\' $1 $$ $x$ ?`,
      `'); DROP TABLE messages; -- 注释 /* */`,
      `E'\\x41' U&'\\0041' 😀 👨‍👩‍👧 \t tab\nnew line\r\n结束`,
      `{"json": ["array", "{\\"nested\\"}"]}`,
    ];
    for (const text of texts) {
      const sent = await send(alice, c.id, { text }).expect(201);
      expect(sent.body.text).toBe(text);
    }
    const page = await as(bob).get(`/v1/conversations/${c.id}/messages`).expect(200);
    expect(page.body.items.map((m: { text: string }) => m.text)).toEqual(texts);
    const events = await eventsOf(messaging.brokers, MESSAGING_MESSAGE_TOPIC.name, c.id, 4);
    expect(
      events.map((e) => (e.data.message as { content: { text: string } }).content.text),
    ).toEqual(texts);
    // …and search finds it by its words.
    const found = await as(bob).get(`/v1/messages/search?q=${encodeURIComponent('注释')}`);
    expect(found.status).toBe(200);
    expect(found.body.items.map((hit: { message: { text: string } }) => hit.message.text)).toEqual([
      texts[1],
    ]);
  });

  it('refuses text with a NUL character without a trace, like any refused send', async () => {
    const c = (
      await as(alice).post('/v1/conversations', { kind: 'single', peer: 'carol' }).expect(201)
    ).body as { id: string };
    await send(alice, c.id).expect(201);
    const refused = await send(alice, c.id, { text: 'before\u0000after' });
    expect([refused.status, refused.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(refused.body.errors[0]).toMatchObject({ field: 'text', code: 'TEXT_INVALID' });
    expect((await rows(c.id)).map((r) => Number(r.seq))).toEqual([1]);
    expect(await outboxCount(c.id)).toBe(1);
    await send(alice, c.id).expect(201);
    expect((await rows(c.id)).map((r) => Number(r.seq))).toEqual([1, 2]);
  });

  it('numbers concurrent sends gap-free, and refused ones among them leave no trace', async () => {
    const g = (
      await as(alice)
        .post('/v1/conversations', { kind: 'group', name: '并发', members: ['bob', 'carol'] })
        .expect(201)
    ).body as { id: string };
    const attempts = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 2
        ? // A quote of a message that does not exist: refused after its seq was taken.
          send(i % 2 ? alice : bob, g.id, { quoteSeq: 1_000 + i })
        : send(i % 2 ? alice : bob, g.id),
    );
    const answers = await Promise.all(attempts);
    const accepted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(accepted).toHaveLength(20);
    expect(refused.map((r) => r.body.code)).toEqual(Array(10).fill('QUOTE_INVALID'));
    const seqs = (await rows(g.id)).map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(accepted.map((a) => a.body.seq as number).sort((x, y) => x - y)).toEqual(seqs);
    expect(await outboxCount(g.id)).toBe(20);
    const c = await as(bob).get(`/v1/conversations/${g.id}`).expect(200);
    expect(c.body.lastSeq).toBe(20);
  });

  it('commits concurrent sends in batches, refusing each bad one alone without a gap', async () => {
    const batches = async () => {
      const metric = await messaging.app
        .get<Registry>(METRICS_REGISTRY)
        .getSingleMetric('qiwei_messaging_send_batch_size')
        ?.get();
      const values = metric?.values ?? [];
      const count =
        values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ??
        0;
      const sum =
        values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
      return { count, sum };
    };
    const before = await batches();
    const g = (
      await as(alice)
        .post('/v1/conversations', {
          kind: 'group',
          name: '批量',
          members: ['bob', 'carol'],
          onlyAdminsPost: false,
        })
        .expect(201)
    ).body as { id: string };
    const open = async (token: string, peer: string) => {
      const opened = await as(token).post('/v1/conversations', { kind: 'single', peer });
      expect([200, 201]).toContain(opened.status);
      return opened.body as { id: string };
    };
    const single = await open(alice, 'carol');
    const strangers = await open(bob, 'carol');
    const [gBefore, singleBefore, strangersBefore] = [
      (await rows(g.id)).length,
      (await rows(single.id)).length,
      (await rows(strangers.id)).length,
    ];
    // In each round of eight: accepted into the group (alice, bob), into the 1:1, refused for
    // a stranger mention, @all by a non-admin, text over the limit, alice posting into a 1:1
    // that is not hers, and a resend of the round's first clientMsgId with another text.
    const round = (r: number) => [
      send(alice, g.id, { clientMsgId: `r${r}-a` }),
      send(bob, g.id),
      send(alice, single.id),
      send(bob, g.id, { mentions: ['nobody'] }),
      send(bob, g.id, { mentions: ['@all'] }),
      send(alice, g.id, { text: '长'.repeat(40) }),
      send(alice, strangers.id),
      send(alice, g.id, { clientMsgId: `r${r}-a`, text: '另一条' }),
    ];
    const answers = await Promise.all(Array.from({ length: 6 }, (_, r) => round(r)).flat());
    const codes = answers.map((a) => (a.status < 300 ? a.status : a.body.code));
    for (let r = 0; r < 6; r++) {
      const mine = codes.slice(r * 8, r * 8 + 8);
      expect(mine.slice(1, 7)).toEqual([
        201,
        201,
        'MENTION_INVALID',
        'MENTION_INVALID',
        'MESSAGE_TOO_LARGE',
        'CONVERSATION_NOT_FOUND',
      ]);
      // The first and the resend of its clientMsgId: one message; the other refused as reused.
      expect(mine[0] === 201 ? mine[7] : mine[0]).toBe('CLIENT_MSG_ID_REUSED');
    }
    // Gap-free in every conversation, and an event for each accepted message.
    const gSeqs = (await rows(g.id)).map((r) => Number(r.seq));
    expect(gSeqs).toEqual(Array.from({ length: gBefore + 12 }, (_, i) => i + 1));
    const singleSeqs = (await rows(single.id)).map((r) => Number(r.seq));
    expect(singleSeqs).toEqual(Array.from({ length: singleBefore + 6 }, (_, i) => i + 1));
    expect((await rows(strangers.id)).length).toBe(strangersBefore);
    expect(await outboxCount(g.id)).toBe(gBefore + 12);
    const seqsAnswered = answers
      .filter((a) => a.status === 201 && a.body.conversationId === g.id)
      .map((a) => a.body.seq as number)
      .sort((x, y) => x - y);
    expect(seqsAnswered).toEqual(gSeqs.slice(gBefore));
    // They did go in batches: fewer transactions than sends.
    const after = await batches();
    expect(after.sum - before.sum).toBe(48);
    expect(after.count - before.count).toBeLessThan(48);
  });

  it('answers a resend with the first message, and refuses another content under its clientMsgId', async () => {
    const opened = await as(bob).post('/v1/conversations', { kind: 'single', peer: 'carol' });
    expect([200, 201]).toContain(opened.status);
    const c = opened.body as { id: string };
    const body = { clientMsgId: 'same-id', type: 'text', text: '只发一次' };
    const [first, second] = await Promise.all([
      as(bob).post(`/v1/conversations/${c.id}/messages`, body),
      as(bob).post(`/v1/conversations/${c.id}/messages`, body),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.id).toBe(second.body.id);
    const other = await as(bob).post(`/v1/conversations/${c.id}/messages`, {
      ...body,
      text: '另一条',
    });
    expect([other.status, other.body.code]).toEqual([409, 'CLIENT_MSG_ID_REUSED']);
    expect((await rows(c.id)).map((r) => Number(r.seq))).toEqual([1]);
    expect(await outboxCount(c.id)).toBe(1);
  });
});
