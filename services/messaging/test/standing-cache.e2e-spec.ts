import { bearer, eventually, type TestApp } from '@qiwei/testing';
import { DataSource } from 'typeorm';
import { Directory } from '../src/directory/directory';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

/**
 * Every instance caches members' and apps' standing (the revocation check of each request).
 * A revocation seen by any instance's projection — or written to the projection by anyone —
 * must stop the member posting through every instance promptly. The cache's TTL is set far
 * beyond the waits here, so only the cross-instance invalidation (LISTEN/NOTIFY) can do it.
 */
describe('messaging: standing cache across instances', () => {
  let messaging: MessagingTestApp;
  let other: TestApp;
  let corp: TestCorp;
  let db: DataSource;
  const tokens: Record<string, string> = {};
  let counter = 0;

  beforeAll(async () => {
    messaging = await bootMessaging({ STANDING_CACHE_TTL_MS: '60000' });
    other = await messaging.startInstance();
    corp = await messaging.createCorp();
    for (const userid of ['alice', 'bob', 'carol', 'dan', 'erin'])
      tokens[userid] = await corp.member(userid);
    await messaging.knows(corp.corpId, Object.keys(tokens));
    db = messaging.app.get(DataSource);
  }, 120_000);
  afterAll(() => messaging?.close());

  const instances = () => [messaging, other];
  const as = (instance: TestApp, token: string) => bearer(instance, token);
  const send = (instance: TestApp, userid: string, conversationId: string) =>
    as(instance, tokens[userid]).post(`/v1/conversations/${conversationId}/messages`, {
      clientMsgId: `c${++counter}`,
      type: 'text',
      text: `第 ${counter} 条`,
    });
  const lastSeq = async (id: string) =>
    Number(
      (
        await db.query<{ last_seq: string }[]>(
          'SELECT last_seq FROM conversations WHERE corp_id = $1 AND id = $2',
          [corp.corpId, id],
        )
      )[0].last_seq,
    );
  const single = async (a: string, b: string) =>
    (
      await as(messaging, tokens[a])
        .post('/v1/conversations', { kind: 'single', peer: b })
        .expect(201)
    ).body as { id: string };
  /** Posts through both instances, so both have the sender's standing cached. */
  const warm = async (userid: string, conversationId: string) => {
    for (const instance of instances()) await send(instance, userid, conversationId).expect(201);
    for (const instance of instances()) {
      const directory = instance.app.get(Directory);
      expect(directory.cachingStanding).toBe(true);
    }
  };
  const refusedEverywhere = async (userid: string, conversationId: string) => {
    // Sends before the revocation arrives are accepted; once refused, refused everywhere.
    await eventually(
      async () => {
        for (const instance of instances()) {
          const refused = await send(instance, userid, conversationId);
          expect([refused.status, refused.body.code]).toEqual([401, 'TOKEN_REVOKED']);
        }
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    // …and a refused send changes nothing.
    const seq = await lastSeq(conversationId);
    for (const instance of instances()) await send(instance, userid, conversationId).expect(401);
    expect(await lastSeq(conversationId)).toBe(seq);
  };

  it('stops a member disabled in identity from posting through every instance', async () => {
    const c = await single('alice', 'bob');
    await warm('alice', c.id);
    expect((await corp.identity('POST', '/v1/members/alice/disable')).status).toBe(200);
    await refusedEverywhere('alice', c.id);
    // bob still posts (through both), into the conversation with a peer who is no longer active:
    // refused for that reason, not for his token.
    for (const instance of instances()) {
      const r = await send(instance, 'bob', c.id);
      expect([r.status, r.body.code]).toEqual([422, 'PEER_INACTIVE']);
    }
  });

  it('applies a revocation written to the projection by anyone (a trigger notifies)', async () => {
    const c = await single('carol', 'dan');
    await warm('carol', c.id);
    await db.query(
      `UPDATE directory_members SET tokens_valid_after = now() + interval '1 second'
        WHERE corp_id = $1 AND userid = 'carol'`,
      [corp.corpId],
    );
    await refusedEverywhere('carol', c.id);
    // A change that does not touch standing notifies nobody, and changes nothing either.
    await db.query(
      `UPDATE directory_members SET name = '丹' WHERE corp_id = $1 AND userid = 'dan'`,
      [corp.corpId],
    );
    await send(other, 'dan', c.id).expect(201);
  });

  it('forgets everything when its listening session is lost, and misses no change meanwhile', async () => {
    const c = await single('erin', 'dan');
    await warm('erin', c.id);
    // Every instance's listening session dies; the change below is committed while nobody
    // listens (or just before they listen again): no notification reaches anyone.
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'qiwei-messaging-standing' AND datname = current_database()`,
    );
    await db.query(
      `ALTER TABLE directory_members DISABLE TRIGGER directory_members_standing_updated`,
    );
    try {
      await db.query(
        `UPDATE directory_members SET status = 'disabled' WHERE corp_id = $1 AND userid = 'erin'`,
        [corp.corpId],
      );
    } finally {
      await db.query(
        `ALTER TABLE directory_members ENABLE TRIGGER directory_members_standing_updated`,
      );
    }
    await refusedEverywhere('erin', c.id);
    // Both listen and cache again.
    await eventually(
      async () => {
        for (const instance of instances())
          expect(instance.app.get(Directory).cachingStanding).toBe(true);
      },
      { timeoutMs: 20_000 },
    );
  });

  it('stops an app’s tokens on every instance once its standing changes', async () => {
    const app = await corp.app({ departmentIds: [1], userids: [], tagIds: [] });
    const post = (instance: TestApp) =>
      instance
        .http()
        .post('/v1/app-messages')
        .set('authorization', `Bearer ${app.token}`)
        .send({ touser: ['bob'], msgtype: 'text', text: '通知' });
    // Messaging learns of the app and the department from identity's events first.
    for (const instance of instances())
      await eventually(
        async () => {
          const r = await post(instance);
          expect(r.status).toBe(200);
          expect(r.body.errcode ?? 0).toBe(0);
        },
        { timeoutMs: 20_000 },
      );
    await db.query(`UPDATE directory_apps SET deleted = true WHERE corp_id = $1 AND agentid = $2`, [
      corp.corpId,
      app.agentid,
    ]);
    await eventually(
      async () => {
        for (const instance of instances()) {
          const r = await post(instance);
          expect([r.status, r.body.code]).toEqual([401, 'TOKEN_REVOKED']);
        }
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  });
});
