import { bearer } from '@qiwei/testing';
import { MESSAGING_CONVERSATION_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { DataSource } from 'typeorm';
import {
  bootMessaging,
  eventsOf,
  type MessagingTestApp,
  type TestCorp,
} from './messaging-test-app';

describe('messaging: conversations and messages', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    messaging = await bootMessaging({ RECALL_WINDOW_MINUTES: '60', MESSAGE_TEXT_MAX_BYTES: '64' });
    corp = await messaging.createCorp();
    [alice, bob, carol] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  let counter = 0;
  const text = (t: string, extra: object = {}) => ({
    clientMsgId: `m${++counter}`,
    type: 'text',
    text: t,
    ...extra,
  });
  const group = async (owner: string, members: string[], extra: object = {}) =>
    (
      await as(owner)
        .post('/v1/conversations', { kind: 'group', name: '项目组', members, ...extra })
        .expect(201)
    ).body as { id: string };

  describe('1:1 conversations', () => {
    it('opens one conversation per pair, from either side', async () => {
      const opened = await as(alice)
        .post('/v1/conversations', { kind: 'single', peer: 'bob' })
        .expect(201);
      expect(opened.body).toMatchObject({ kind: 'single', owner: null, lastSeq: 0 });
      expect(opened.body.participants.map((p: { userid: string }) => p.userid).sort()).toEqual([
        'alice',
        'bob',
      ]);
      const again = await as(bob)
        .post('/v1/conversations', { kind: 'single', peer: 'alice' })
        .expect(200);
      expect(again.body.id).toBe(opened.body.id);
      const listed = await as(alice).get('/v1/conversations').expect(200);
      expect(listed.body.items.map((c: { id: string }) => c.id)).toContain(opened.body.id);
      await as(carol).get(`/v1/conversations/${opened.body.id}`).expect(404);
    });

    it('refuses oneself, unknown members and malformed requests', async () => {
      const cases: [object, number, string][] = [
        [{ kind: 'single', peer: 'alice' }, 422, 'SINGLE_WITH_SELF'],
        [{ kind: 'single', peer: 'nobody' }, 422, 'MEMBERS_UNKNOWN'],
        [{ kind: 'single' }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'single', peer: 'bob', members: ['carol'] }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'channel', peer: 'bob' }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'group', name: 'x', members: [] }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'group', name: '   ', members: ['bob'] }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'group', name: 'x', members: ['bob'], extra: 1 }, 400, 'VALIDATION_FAILED'],
        [{ kind: 'group', name: 'x', members: ['bob', 'ghost'] }, 422, 'MEMBERS_UNKNOWN'],
      ];
      for (const [body, status, code] of cases) {
        const response = await as(alice).post('/v1/conversations', body);
        expect([response.status, response.body.code, body]).toEqual([status, code, body]);
      }
      await messaging.http().get('/v1/conversations').expect(401);
      await as('not.a.jwt').get('/v1/conversations').expect(401);
      await as(alice).get('/v1/conversations/not-a-uuid').expect(400);
    });
  });

  describe('groups', () => {
    it('lets the owner and admins run the group, and only them', async () => {
      const g = await group(alice, ['bob'], { onlyOwnerInvites: true });
      const refused = await as(bob)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] })
        .expect(403);
      expect(refused.body.code).toBe('GROUP_ROLE_REQUIRED');
      await as(alice)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['carol'] })
        .expect(200);
      await as(bob).patch(`/v1/conversations/${g.id}`, { name: '改名' }).expect(403);
      await as(alice)
        .patch(`/v1/conversations/${g.id}`, { admins: ['bob'] })
        .expect(200);
      await as(bob).patch(`/v1/conversations/${g.id}`, { name: '改名' }).expect(200);
      expect(
        (await as(bob).patch(`/v1/conversations/${g.id}`, { owner: 'bob' }).expect(403)).body.code,
      ).toBe('GROUP_ROLE_REQUIRED');
      expect(
        (await as(alice).delete(`/v1/conversations/${g.id}/members/alice`).expect(409)).body.code,
      ).toBe('OWNER_MUST_TRANSFER');
      const moved = await as(alice)
        .patch(`/v1/conversations/${g.id}`, { owner: 'carol' })
        .expect(200);
      expect(moved.body.owner).toBe('carol');
      expect(
        Object.fromEntries(
          moved.body.participants.map((p: { userid: string; role: string }) => [p.userid, p.role]),
        ),
      ).toEqual({ alice: 'admin', bob: 'admin', carol: 'owner' });
      await as(alice).delete(`/v1/conversations/${g.id}/members/alice`).expect(200);
      await as(alice).get(`/v1/conversations/${g.id}`).expect(404);
      await as(bob).delete(`/v1/conversations/${g.id}`).expect(403);
      await as(carol).delete(`/v1/conversations/${g.id}`).expect(204);
      await as(carol).get(`/v1/conversations/${g.id}`).expect(404);
      const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 7);
      expect(events.map((e) => e.type.split('.')[3])).toEqual([
        'created',
        'members_added',
        'settings_changed',
        'settings_changed',
        'settings_changed',
        'members_removed',
        'disbanded',
      ]);
    });

    it('keeps another corp out entirely', async () => {
      const other = await messaging.createCorp();
      const stranger = await other.member('alice'); // same userid, another corp
      const g = await group(alice, ['bob']);
      await as(stranger).get(`/v1/conversations/${g.id}`).expect(404);
      await as(stranger).post(`/v1/conversations/${g.id}/messages`, text('hi')).expect(404);
      await as(stranger)
        .post(`/v1/conversations/${g.id}/members`, { userids: ['bob'] })
        .expect(404);
      const own = await as(stranger).get('/v1/conversations').expect(200);
      expect(own.body.items).toEqual([]);
    });
  });

  describe('messages', () => {
    it('numbers messages gap-free even when sent at once, and sending is idempotent', async () => {
      const g = await group(alice, ['bob', 'carol']);
      const sends = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          as([alice, bob, carol][i % 3]).post(
            `/v1/conversations/${g.id}/messages`,
            text(`第${i}条`),
          ),
        ),
      );
      expect(sends.map((s) => s.status)).toEqual(Array(12).fill(201));
      expect(sends.map((s) => s.body.seq as number).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      const first = text('重要通知');
      const sent = await as(alice).post(`/v1/conversations/${g.id}/messages`, first).expect(201);
      const resent = await as(alice).post(`/v1/conversations/${g.id}/messages`, first).expect(200);
      expect(resent.body).toEqual(sent.body);
      const reused = await as(alice)
        .post(`/v1/conversations/${g.id}/messages`, { ...first, text: '别的内容' })
        .expect(409);
      expect(reused.body.code).toBe('CLIENT_MSG_ID_REUSED');
      const page = await as(bob)
        .get(`/v1/conversations/${g.id}/messages?afterSeq=10&limit=2`)
        .expect(200);
      expect(page.body.items.map((m: { seq: number }) => m.seq)).toEqual([11, 12]);
      expect(page.body.lastSeq).toBe(13);
      const events = await eventsOf(messaging.brokers, MESSAGING_MESSAGE_TOPIC.name, g.id, 13);
      const last = events.find((e) => (e.data.message as { seq: string }).seq === '13');
      expect(last?.data.message).toMatchObject({
        corpId: corp.corpId,
        conversationId: g.id,
        sender: 'alice',
        conversationKind: 'group',
        content: { type: 'text', text: '重要通知' },
      });
      expect((last?.data.message as { participants: string[] }).participants.sort()).toEqual([
        'alice',
        'bob',
        'carol',
      ]);
    });

    it('refuses what may not be sent, and changes nothing', async () => {
      const g = await group(alice, ['bob'], { onlyAdminsPost: true });
      const cases: [string, object, number, string][] = [
        [bob, text('禁言中'), 403, 'GROUP_MUTED'],
        [alice, text('x'.repeat(65)), 413, 'MESSAGE_TOO_LARGE'],
        [alice, text('中'.repeat(22)), 413, 'MESSAGE_TOO_LARGE'], // 66 bytes in UTF-8
        [alice, text('hi', { mentions: ['carol'] }), 422, 'MENTION_INVALID'],
        [alice, text('hi', { quoteSeq: 5 }), 422, 'QUOTE_INVALID'],
        [alice, text('   '), 400, 'VALIDATION_FAILED'],
        [alice, { ...text('hi'), type: 'image' }, 400, 'VALIDATION_FAILED'],
        [alice, { ...text('hi'), clientMsgId: 'bad id!' }, 400, 'VALIDATION_FAILED'],
        [alice, { ...text('hi'), extra: true }, 400, 'VALIDATION_FAILED'],
        [carol, text('not a member'), 404, 'CONVERSATION_NOT_FOUND'],
      ];
      for (const [token, body, status, code] of cases) {
        const response = await as(token).post(`/v1/conversations/${g.id}/messages`, body);
        expect([response.status, response.body.code]).toEqual([status, code]);
      }
      await as(alice).patch(`/v1/conversations/${g.id}`, { onlyAdminsPost: false }).expect(200);
      const all = await as(bob).post(
        `/v1/conversations/${g.id}/messages`,
        text('@所有人', { mentions: ['@all'] }),
      );
      expect([all.status, all.body.code]).toEqual([422, 'MENTION_INVALID']);
      await as(alice)
        .post(`/v1/conversations/${g.id}/messages`, text('@所有人', { mentions: ['@all'] }))
        .expect(201);
      const read = await as(alice).get(`/v1/conversations/${g.id}`).expect(200);
      expect(read.body.lastSeq).toBe(1);
    });

    it('tracks read positions and receipts', async () => {
      const g = await group(alice, ['bob', 'carol']);
      for (let i = 0; i < 3; i++)
        await as(alice)
          .post(`/v1/conversations/${g.id}/messages`, text(`m${i}`))
          .expect(201);
      await as(bob).post(`/v1/conversations/${g.id}/read`, { seq: 2 }).expect(204);
      await as(bob).post(`/v1/conversations/${g.id}/read`, { seq: 1 }).expect(204); // never back
      const receipts = await as(alice)
        .get(`/v1/conversations/${g.id}/messages/2/receipts`)
        .expect(200);
      expect(receipts.body).toEqual({
        seq: 2,
        read: ['bob'],
        unread: ['carol'],
        readCount: 1,
        unreadCount: 1,
      });
      expect(
        (await as(bob).post(`/v1/conversations/${g.id}/read`, { seq: 9 }).expect(422)).body.code,
      ).toBe('READ_BEYOND_LAST');
      await as(bob).post(`/v1/conversations/${g.id}/read`, { seq: 0 }).expect(400);
      await as(alice).get(`/v1/conversations/${g.id}/messages/9/receipts`).expect(404);
    });

    it('recalls: the sender within the window, a group admin at any time, never twice', async () => {
      const g = await group(alice, ['bob', 'carol']);
      const mine = await as(bob)
        .post(`/v1/conversations/${g.id}/messages`, text('说错了'))
        .expect(201);
      expect(
        (
          await as(carol)
            .post(`/v1/conversations/${g.id}/messages/${mine.body.seq}/recall`)
            .expect(403)
        ).body.code,
      ).toBe('RECALL_NOT_ALLOWED');
      const recalled = await as(bob)
        .post(`/v1/conversations/${g.id}/messages/${mine.body.seq}/recall`)
        .expect(200);
      expect(recalled.body).toMatchObject({ recalled: true, recalledBy: 'bob', text: '' });
      expect(
        (
          await as(bob)
            .post(`/v1/conversations/${g.id}/messages/${mine.body.seq}/recall`)
            .expect(409)
        ).body.code,
      ).toBe('MESSAGE_ALREADY_RECALLED');
      const old = await as(bob)
        .post(`/v1/conversations/${g.id}/messages`, text('很久以前'))
        .expect(201);
      await messaging.app
        .get(DataSource)
        .query(`UPDATE messages SET sent_at = now() - interval '2 hours' WHERE id = $1`, [
          old.body.id,
        ]);
      expect(
        (
          await as(bob)
            .post(`/v1/conversations/${g.id}/messages/${old.body.seq}/recall`)
            .expect(403)
        ).body.code,
      ).toBe('RECALL_NOT_ALLOWED');
      await as(alice).post(`/v1/conversations/${g.id}/messages/${old.body.seq}/recall`).expect(200);
      const listed = await as(carol).get(`/v1/conversations/${g.id}/messages`).expect(200);
      expect(
        listed.body.items.map((m: { recalled: boolean; text: string }) => [m.recalled, m.text]),
      ).toEqual([
        [true, ''],
        [true, ''],
      ]);
    });
  });

  it('lets a group’s admins recall members’ messages but not the owner’s or another admin’s; the owner recalls any', async () => {
    const erin = await corp.member('erin');
    const g = await group(alice, ['bob', 'carol', 'erin']);
    await as(alice)
      .patch(`/v1/conversations/${g.id}`, { admins: ['bob', 'carol'] })
      .expect(200);
    const say = async (token: string, t: string) =>
      (await as(token).post(`/v1/conversations/${g.id}/messages`, text(t)).expect(201)).body
        .seq as number;
    const owners = await say(alice, '群主');
    const admins = await say(carol, '管理员');
    const members = await say(erin, '成员');
    const own = await say(bob, '自己的');
    const recall = (token: string, seq: number) =>
      as(token).post(`/v1/conversations/${g.id}/messages/${seq}/recall`);
    for (const seq of [owners, admins]) {
      const refused = await recall(bob, seq);
      expect([refused.status, refused.body.code]).toEqual([403, 'RECALL_NOT_ALLOWED']);
    }
    const byMember = await recall(erin, admins);
    expect([byMember.status, byMember.body.code]).toEqual([403, 'RECALL_NOT_ALLOWED']);
    // Out of the sender's window, an admin still recalls a member's message, and their own.
    await messaging.app
      .get(DataSource)
      .query(
        `UPDATE messages SET sent_at = now() - interval '2 hours' WHERE conversation_id = $1`,
        [g.id],
      );
    expect((await recall(bob, members).expect(200)).body.recalledBy).toBe('bob');
    await recall(bob, own).expect(200);
    expect((await recall(alice, admins).expect(200)).body.recalledBy).toBe('alice');
    const listed = await as(erin).get(`/v1/conversations/${g.id}/messages`).expect(200);
    expect(
      listed.body.items.map((m: { seq: number; recalled: boolean }) => [m.seq, m.recalled]),
    ).toEqual([
      [owners, false],
      [admins, true],
      [members, true],
      [own, true],
    ]);
    // A recalled message is no longer quoted.
    const quote = await as(alice).post(
      `/v1/conversations/${g.id}/messages`,
      text('回复', { quoteSeq: members }),
    );
    expect([quote.status, quote.body.code]).toEqual([422, 'QUOTE_INVALID']);
    expect(quote.body.detail).toContain('recalled');
    await as(alice)
      .post(`/v1/conversations/${g.id}/messages`, text('回复', { quoteSeq: owners }))
      .expect(201);
  });

  it('accepts nothing more for a 1:1 peer who is disabled or left, until they are back', async () => {
    const fred = await corp.member('fred');
    const opened = await as(alice).post('/v1/conversations', { kind: 'single', peer: 'fred' });
    const id = opened.body.id as string;
    await as(alice).post(`/v1/conversations/${id}/messages`, text('在吗')).expect(201);
    expect((await corp.identity('POST', '/v1/members/fred/disable')).status).toBe(200);
    await messaging.knows(corp.corpId, ['fred'], 'disabled');
    const refused = await as(alice).post(`/v1/conversations/${id}/messages`, text('还在吗'));
    expect([refused.status, refused.body.code]).toEqual([422, 'PEER_INACTIVE']);
    expect(refused.body.detail).toContain('fred');
    const c = await as(alice).get(`/v1/conversations/${id}`).expect(200);
    expect(c.body.lastSeq).toBe(1);
    // fred's own token ended with the disabling.
    await as(fred).get('/v1/conversations').expect(401);
    expect((await corp.identity('POST', '/v1/members/fred/enable')).status).toBe(200);
    await messaging.knows(corp.corpId, ['fred']);
    await as(alice).post(`/v1/conversations/${id}/messages`, text('欢迎回来')).expect(201);
  });

  it('takes a member who leaves the corp out of their groups, hands ownership on, and ends their tokens', async () => {
    const dave = await corp.member('dave');
    const g = await group(dave, ['alice', 'bob']);
    await as(dave)
      .patch(`/v1/conversations/${g.id}`, { admins: ['bob'] })
      .expect(200);
    const left = await corp.identity('POST', '/v1/members/dave/leave');
    expect(left.status).toBe(200);
    await messaging.knows(corp.corpId, ['dave'], 'left');
    const after = await as(alice).get(`/v1/conversations/${g.id}`).expect(200);
    expect(after.body.owner).toBe('bob');
    expect(after.body.participants.map((p: { userid: string }) => p.userid).sort()).toEqual([
      'alice',
      'bob',
    ]);
    const refused = await as(dave).get('/v1/conversations').expect(401);
    expect(refused.body.code).toBe('TOKEN_REVOKED');
    const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 3);
    expect(events[2]).toMatchObject({
      type: 'qiwei.messaging.conversation.members_removed.v1',
      data: { userids: ['dave'], reason: 'left_corp' },
    });
  });
});
