import { randomBytes } from 'node:crypto';
import { MESSAGING_CONVERSATION_TOPIC } from '@qiwei/contracts';
import { bearer, eventually } from '@qiwei/testing';
import { DataSource } from 'typeorm';
import {
  bootMessaging,
  eventsOf,
  type MessagingTestApp,
  type TestCorp,
} from './messaging-test-app';
import { listen, StreamClient } from './stream-client';

type Conversation = {
  id: string;
  kind: string;
  memberLimit: number;
  participants: { userid: string; role: string }[];
  waiting: string[];
};

/**
 * A department group's subtree may outgrow the member limit (GROUP_MEMBER_LIMIT, 3 here): the
 * group is not created over it, and once full, members who would join wait for a seat
 * (members_left_out, frames, `waiting`) and join, oldest first, as seats free up.
 */
describe('messaging: department groups at their member limit', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let db: DataSource;
  let baseUrl: string;
  const streams: StreamClient[] = [];
  const t: Record<string, string> = {};
  let ops: number;
  let night: number;

  beforeAll(async () => {
    messaging = await bootMessaging({ GROUP_MEMBER_LIMIT: '3' });
    db = messaging.app.get(DataSource);
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    ops = await department('运维部', 1);
    night = await department('夜班', ops);
    t.olive = await corp.member('olive', ops, { leader: true });
    t.oscar = await corp.member('oscar', ops);
    t.pia = await corp.member('pia', night);
    t.quinn = await corp.member('quinn', night);
    baseUrl = await listen(messaging);
  }, 180_000);
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await messaging?.close();
  });

  async function department(name: string, parentId: number): Promise<number> {
    const created = await corp.identity('POST', '/v1/departments', { name, parentId });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    const id = (created.body as { id: number }).id;
    await eventually(
      async () => {
        const rows = await db.query(
          'SELECT 1 FROM directory_departments WHERE corp_id = $1 AND id = $2',
          [corp.corpId, id],
        );
        if (!rows.length) throw new Error(`department ${id} not projected yet`);
      },
      { timeoutMs: 30_000 },
    );
    return id;
  }

  const as = (token: string) => bearer(messaging, token);
  const identity = async (method: string, path: string, body?: object) => {
    const response = await corp.identity(method, path, body);
    expect([path, response.status]).toEqual([path, 200]);
  };
  /** A fresh token (disabling a member ends their tokens). */
  const signIn = async (userid: string) => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const set = await corp.identity('PUT', `/v1/members/${userid}/password`, { password });
    expect(set.status).toBe(204);
    const session = await corp.identity('POST', '/v1/auth/sign-in', {
      corpId: corp.corpId,
      userid,
      password,
    });
    expect(session.status).toBe(200);
    return (session.body as { accessToken: string }).accessToken;
  };
  const until = (id: string, members: string[], waiting: string[]) =>
    eventually(
      async () => {
        const c = (await as(t.olive).get(`/v1/conversations/${id}`).expect(200))
          .body as Conversation;
        expect([c.participants.map((p) => p.userid).sort(), c.waiting]).toEqual([members, waiting]);
        return c;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  it('is not created for a subtree over the limit, and changes nothing', async () => {
    const refused = await as(t.olive).post('/v1/conversations', {
      kind: 'department',
      name: '运维部',
      departmentId: ops,
    });
    expect([refused.status, refused.body.code]).toEqual([422, 'DEPARTMENT_GROUP_TOO_LARGE']);
    expect(refused.body.detail).toContain('4 active members');
    expect(refused.body.detail).toContain('at most 3');
    const [row] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM conversations WHERE corp_id = $1 AND kind = 'department'`,
      [corp.corpId],
    );
    expect(row.n).toBe(0);

    // Unauthorised, malformed and another corp's attempts are refused too.
    await messaging
      .http()
      .post('/v1/conversations')
      .send({ kind: 'department', name: '运维部', departmentId: ops })
      .expect(401);
    const malformed = await as(t.olive).post('/v1/conversations', {
      kind: 'department',
      name: '运维部',
      departmentId: 'ops',
    });
    expect(malformed.status).toBe(400);
    const foreign = await as(other.adminToken).post('/v1/conversations', {
      kind: 'department',
      name: '运维部',
      departmentId: ops,
      owner: 'olive',
    });
    expect([foreign.status, foreign.body.code]).toEqual([422, 'DEPARTMENT_UNKNOWN']);
  });

  it('once full, lets newcomers wait for a seat and in, oldest first, as seats free up', async () => {
    await identity('POST', '/v1/members/quinn/disable');
    await messaging.knows(corp.corpId, ['quinn'], 'disabled');
    const created = await as(t.olive)
      .post('/v1/conversations', { kind: 'department', name: '运维部', departmentId: ops })
      .expect(201);
    const g = created.body as Conversation;
    expect(g.participants.map((p) => p.userid).sort()).toEqual(['olive', 'oscar', 'pia']);
    expect([g.memberLimit, g.waiting]).toEqual([3, []]);
    const olive = await StreamClient.open(baseUrl, t.olive);
    streams.push(olive);

    // Full: quinn, enabled again, waits; so does rita, who joins the subtree after.
    await identity('POST', '/v1/members/quinn/enable');
    await until(g.id, ['olive', 'oscar', 'pia'], ['quinn']);
    t.quinn = await signIn('quinn');
    const quinn = await StreamClient.open(baseUrl, t.quinn);
    streams.push(quinn);
    expect(
      await olive.next(
        (f) =>
          f.type === 'conversation' && f.event === 'members_left_out' && f.conversationId === g.id,
      ),
    ).toMatchObject({ userids: ['quinn'], by: '' });
    const rita = await corp.member('rita', night);
    await until(g.id, ['olive', 'oscar', 'pia'], ['quinn', 'rita']);
    // Waiting is not membership.
    const outside = await as(rita).get(`/v1/conversations/${g.id}`);
    expect([outside.status, outside.body.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
    const post = await as(t.quinn).post(`/v1/conversations/${g.id}/messages`, {
      clientMsgId: 'q1',
      type: 'text',
      text: '我能进来吗',
    });
    expect(post.status).toBe(404);

    // pia moves out: the seat goes to quinn, who waited longest.
    await identity('PATCH', '/v1/members/pia', { departments: [{ id: 1 }] });
    await until(g.id, ['olive', 'oscar', 'quinn'], ['rita']);
    expect(
      await quinn.next(
        (f) =>
          f.type === 'conversation' && f.event === 'members_added' && f.conversationId === g.id,
      ),
    ).toMatchObject({ userids: ['quinn'] });
    // rita, disabled, stops waiting.
    await identity('POST', '/v1/members/rita/disable');
    await until(g.id, ['olive', 'oscar', 'quinn'], []);

    // The night shift moves out from under ops (quinn with it): a seat frees; sven takes it.
    await identity('PATCH', `/v1/departments/${night}`, { parentId: 1 });
    await until(g.id, ['olive', 'oscar'], []);
    await corp.member('sven', ops);
    await until(g.id, ['olive', 'oscar', 'sven'], []);
    // It moves back: quinn would join, but the group is full again.
    await identity('PATCH', `/v1/departments/${night}`, { parentId: ops });
    const full = await until(g.id, ['olive', 'oscar', 'sven'], ['quinn']);
    expect(full.participants).toHaveLength(3);

    const events = await eventsOf(messaging.brokers, MESSAGING_CONVERSATION_TOPIC.name, g.id, 8);
    const membership = events
      .filter((e) => e.type.includes('.members_'))
      .map((e) => [e.type.split('.')[3], e.data.userids]);
    expect(membership).toEqual([
      ['members_left_out', ['quinn']],
      ['members_left_out', ['rita']],
      ['members_removed', ['pia']],
      ['members_added', ['quinn']],
      ['members_removed', ['quinn']],
      ['members_added', ['sven']],
      ['members_left_out', ['quinn']],
    ]);
    const leftOut = events.filter((e) => e.type.endsWith('.members_left_out.v1'));
    expect(leftOut[1].data.conversation).toMatchObject({
      kind: 'department',
      departmentId: ops,
      memberLimit: 3,
      waiting: ['quinn', 'rita'],
    });
    // Other corps see nothing of it.
    const foreign = await as(other.adminToken).get(`/v1/conversations/${g.id}`);
    expect([foreign.status, foreign.body.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
  });
});
