import { bearer } from '@qiwei/testing';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';
import { listen, StreamClient } from './stream-client';
import { TopicRecorder } from './topic-recorder';

/**
 * Urgent reminders (强提醒): the sender or a group's owner/admins flag a message; the
 * participants whose read position is before it are re-notified (an event on the message
 * topic for SMS/e-mail channels, an `urgent` frame); limits on how often and how late.
 */
describe('messaging: urgent reminders', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let db: DataSource;
  let recorder: TopicRecorder;
  let baseUrl: string;
  const streams: StreamClient[] = [];
  const t: Record<string, string> = {};
  let group: string;

  beforeAll(async () => {
    messaging = await bootMessaging({
      URGENT_REMINDER_INTERVAL_SECONDS: '3600',
      URGENT_REMINDERS_PER_MESSAGE: '2',
      URGENT_REMINDER_WINDOW_MINUTES: '60',
    });
    db = messaging.app.get(DataSource);
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    [t.alice, t.bob, t.carol, t.dave, t.erin] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
      corp.member('dave'),
      corp.member('erin'),
    ]);
    t.olga = await other.member('olga');
    recorder = await TopicRecorder.start(messaging.brokers, MESSAGING_MESSAGE_TOPIC);
    baseUrl = await listen(messaging);
    group = (
      await as(t.alice)
        .post('/v1/conversations', {
          kind: 'group',
          name: '周报群',
          members: ['bob', 'carol', 'dave'],
        })
        .expect(201)
    ).body.id;
  }, 180_000);
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await recorder?.stop();
    await messaging?.close();
  });

  const as = (token: string) => bearer(messaging, token);
  let n = 0;
  const say = async (token: string, conversation: string, text?: string) => {
    const id = ++n;
    const sent = await as(token)
      .post(`/v1/conversations/${conversation}/messages`, {
        clientMsgId: `urgent-${id}`,
        type: 'text',
        text: text ?? `第 ${id} 条`,
      })
      .expect(201);
    return sent.body.seq as number;
  };
  const flag = (token: string, seq: number, body?: object, conversation = group) =>
    as(token).post(`/v1/conversations/${conversation}/messages/${seq}/urgent`, body);
  const backdateReminders = (seq: number) =>
    db.query(
      `UPDATE message_urgent_reminders SET reminded_at = reminded_at - interval '2 hours'
        WHERE corp_id = $1 AND conversation_id = $2 AND seq = $3`,
      [corp.corpId, group, seq],
    );

  it('re-notifies the participants who have not read the message: an event for other channels and a frame', async () => {
    const carol = await StreamClient.open(baseUrl, t.carol);
    const bob = await StreamClient.open(baseUrl, t.bob);
    streams.push(carol, bob);
    const long = '请在今天下班前提交周报。'.repeat(30);
    const seq = await say(t.alice, group, long);
    await as(t.bob).post(`/v1/conversations/${group}/read`, { seq }).expect(204);
    const flagged = await flag(t.alice, seq).expect(201);
    expect(flagged.body).toMatchObject({
      conversationId: group,
      seq,
      remindedBy: 'alice',
      userids: ['carol', 'dave'],
      remindersLeft: 1,
    });
    const frame = await carol.next((f) => f.type === 'urgent' && f.seq === seq);
    expect(frame).toMatchObject({
      conversationId: group,
      sender: 'alice',
      remindedBy: 'alice',
      messageType: 'text',
    });
    expect((frame.preview as string).length).toBe(201); // 200 characters and an ellipsis
    const [event] = await recorder.waitFor(
      (e) => e.key === group && e.type === 'qiwei.messaging.message.urgent_reminded.v1',
    );
    expect(event.data).toMatchObject({
      corpId: corp.corpId,
      conversationId: group,
      conversationKind: 'group',
      conversationName: '周报群',
      seq: String(seq),
      sender: 'alice',
      remindedBy: 'alice',
      userids: ['carol', 'dave'],
      reminderId: flagged.body.id,
    });
    expect(bob.frames.some((f) => f.type === 'urgent')).toBe(false);
    const listed = await as(t.dave)
      .get(`/v1/conversations/${group}/messages/${seq}/urgent`)
      .expect(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: flagged.body.id, userids: ['carol', 'dave'] }),
    ]);
  });

  it('reminds only the unread participants named, and refuses others', async () => {
    const seq = await say(t.alice, group);
    await as(t.carol).post(`/v1/conversations/${group}/read`, { seq }).expect(204);
    const named = await flag(t.alice, seq, { userids: ['dave'] }).expect(201);
    expect(named.body.userids).toEqual(['dave']);
    await backdateReminders(seq);
    for (const userids of [['carol'], ['erin'], ['alice'], ['ghost']]) {
      const refused = await flag(t.alice, seq, { userids });
      expect([refused.status, refused.body.code]).toEqual([422, 'URGENT_RECIPIENTS_INVALID']);
    }
  });

  it('lets the sender and the group’s owner and admins flag, nobody else', async () => {
    const bobs = await say(t.bob, group);
    const byCarol = await flag(t.carol, bobs);
    expect([byCarol.status, byCarol.body.code]).toEqual([403, 'URGENT_REMINDER_NOT_ALLOWED']);
    // alice owns the group: she flags bob's message (bob is never reminded of his own).
    const byOwner = await flag(t.alice, bobs).expect(201);
    expect(byOwner.body.userids).toEqual(['carol', 'dave']);
    await as(t.alice)
      .patch(`/v1/conversations/${group}`, { admins: ['carol'] })
      .expect(200);
    await backdateReminders(bobs);
    const byAdmin = await flag(t.carol, bobs).expect(201);
    expect(byAdmin.body.userids).toEqual(['alice', 'dave']);
    const byOutsider = await flag(t.erin, bobs);
    expect([byOutsider.status, byOutsider.body.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
    const otherCorp = await flag(t.olga, bobs);
    expect([otherCorp.status, otherCorp.body.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
  });

  it('in a 1:1 conversation the sender reminds the other side until they read it', async () => {
    const single = (
      await as(t.alice).post('/v1/conversations', { kind: 'single', peer: 'erin' }).expect(201)
    ).body.id as string;
    const seq = await say(t.alice, single);
    const reminded = await flag(t.alice, seq, undefined, single).expect(201);
    expect(reminded.body.userids).toEqual(['erin']);
    const byPeer = await flag(t.erin, seq, undefined, single);
    expect([byPeer.status, byPeer.body.code]).toEqual([403, 'URGENT_REMINDER_NOT_ALLOWED']);
    await as(t.erin).post(`/v1/conversations/${single}/read`, { seq }).expect(204);
    await db.query(
      `UPDATE message_urgent_reminders SET reminded_at = reminded_at - interval '2 hours'
        WHERE corp_id = $1 AND conversation_id = $2`,
      [corp.corpId, single],
    );
    const read = await flag(t.alice, seq, undefined, single);
    expect([read.status, read.body.code]).toEqual([422, 'NOTHING_TO_REMIND']);
  });

  it('limits how often, how many times and how late a message is flagged', async () => {
    const seq = await say(t.alice, group);
    await flag(t.alice, seq).expect(201);
    const tooSoon = await flag(t.alice, seq);
    expect([tooSoon.status, tooSoon.body.code]).toEqual([429, 'URGENT_REMINDER_LIMITED']);
    await backdateReminders(seq);
    await flag(t.alice, seq).expect(201);
    await backdateReminders(seq);
    const tooMany = await flag(t.alice, seq);
    expect([tooMany.status, tooMany.body.code]).toEqual([429, 'URGENT_REMINDER_LIMITED']);

    const old = await say(t.alice, group);
    await db.query(
      `UPDATE messages SET sent_at = now() - interval '61 minutes'
        WHERE corp_id = $1 AND conversation_id = $2 AND seq = $3`,
      [corp.corpId, group, old],
    );
    const late = await flag(t.alice, old);
    expect([late.status, late.body.code]).toEqual([422, 'URGENT_REMINDER_TOO_LATE']);
  });

  it('refuses recalled, unknown and malformed targets, retries safely, and records nothing for a refusal', async () => {
    const count = async () =>
      (
        await db.query<{ n: number }[]>(
          'SELECT count(*)::int AS n FROM message_urgent_reminders WHERE corp_id = $1',
          [corp.corpId],
        )
      )[0].n;
    const recalled = await say(t.alice, group);
    await as(t.alice).post(`/v1/conversations/${group}/messages/${recalled}/recall`).expect(200);
    const before = await count();
    const cases: [Test, number, string][] = [
      [flag(t.alice, recalled), 409, 'MESSAGE_ALREADY_RECALLED'],
      [flag(t.alice, 9999), 404, 'MESSAGE_NOT_FOUND'],
      [flag(t.alice, 0), 400, 'VALIDATION_FAILED'],
      [flag(t.alice, recalled, { userids: 'dave' }), 400, 'VALIDATION_FAILED'],
      [flag(t.alice, recalled, { userids: [] }), 400, 'VALIDATION_FAILED'],
      [flag(t.alice, recalled, { userids: ['bad id!'] }), 400, 'VALIDATION_FAILED'],
      [flag(t.alice, recalled, { userids: Array(2001).fill('dave') }), 400, 'VALIDATION_FAILED'],
      [flag(t.alice, recalled, { everyone: true }), 400, 'VALIDATION_FAILED'],
      [
        as(t.alice).post(`/v1/conversations/not-a-uuid/messages/1/urgent`),
        400,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [request, status, code] of cases) {
      const response = await request;
      expect([response.status, response.body.code]).toEqual([status, code]);
    }
    await messaging.http().post(`/v1/conversations/${group}/messages/1/urgent`).expect(401);
    expect(await count()).toBe(before);

    const seq = await say(t.alice, group);
    const first = await flag(t.alice, seq).set('idempotency-key', 'urgent-1').expect(201);
    const again = await flag(t.alice, seq).set('idempotency-key', 'urgent-1').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await count()).toBe(before + 1);
  });
});
