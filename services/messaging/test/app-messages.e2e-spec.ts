import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { bearer, eventually } from '@qiwei/testing';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import { Directory } from '../src/directory/directory';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

/**
 * App messages (应用消息): recipients from users, department subtrees, tags or everyone, limited
 * to the app's range; invalid names listed; rate limits refuse by name; inbox rows and events.
 */
describe('messaging: app messages', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let sales: number;
  let east: number;
  let finance: number;
  let tokens: Record<string, string>;
  let app: { agentid: number; secret: string; token: string };

  beforeAll(async () => {
    messaging = await bootMessaging({ APP_MESSAGE_PER_MEMBER_PER_MINUTE: '3' });
    corp = await messaging.createCorp();
    const department = async (name: string, parentid: number) =>
      (
        (await corp.identity('POST', '/v1/departments', { name, parentId: parentid })).body as {
          id: number;
        }
      ).id;
    sales = await department('销售部', 1);
    east = await department('华东区', sales);
    finance = await department('财务部', 1);
    tokens = {
      alice: await corp.member('alice'),
      bob: await corp.member('bob', sales),
      carol: await corp.member('carol', east),
      dave: await corp.member('dave', finance),
    };
    // Range: the sales subtree and alice by name.
    app = await corp.app({ departmentIds: [sales], userids: ['alice'], tagIds: [] }, '审批助手');
    // Messaging learns departments from identity's events.
    await eventually(
      async () => {
        const rows = await messaging.app
          .get(DataSource)
          .query('SELECT count(*)::int AS n FROM directory_departments WHERE corp_id = $1', [
            corp.corpId,
          ]);
        if (rows[0].n < 4) throw new Error(`${rows[0].n} departments known`);
      },
      { timeoutMs: 30_000 },
    );
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  let n = 0;
  const send = (targets: object, extra: object = {}, token = app.token) =>
    as(token).post('/v1/app-messages', {
      msgtype: 'text',
      text: `通知 ${++n}`,
      ...targets,
      ...extra,
    });

  it('reaches users, department subtrees and everyone in the range, and lists the invalid ones', async () => {
    const users = await send({ touser: ['alice', 'bob', 'dave', 'ghost'] }).expect(200);
    expect(users.body).toMatchObject({
      recipients: 2,
      invaliduser: ['dave', 'ghost'],
      duplicate: false,
    });
    const parties = await send({ toparty: [sales, finance, 9999] }).expect(200);
    expect(parties.body).toMatchObject({ recipients: 2, invalidparty: [finance, 9999] });
    const everyone = await send({ all: true }).expect(200);
    expect(everyone.body.recipients).toBe(3); // alice, bob, carol — never dave
    const inbox = await as(tokens.carol).get('/v1/app-messages').expect(200);
    expect(inbox.body.items.map((m: { msgid: string }) => m.msgid)).toEqual([
      everyone.body.msgid,
      parties.body.msgid,
    ]);
    expect(inbox.body.items[0]).toMatchObject({
      agentid: app.agentid,
      msgtype: 'text',
      readAt: null,
    });
    await as(tokens.carol).post(`/v1/app-messages/${everyone.body.msgid}/read`).expect(204);
    await as(tokens.dave).post(`/v1/app-messages/${everyone.body.msgid}/read`).expect(404);
    expect((await as(tokens.dave).get('/v1/app-messages').expect(200)).body.items).toEqual([]);

    const consumer = createKafka({ brokers: messaging.brokers, clientId: 'app-msg-test' }).consumer(
      {
        groupId: `app-msg-test-${Date.now()}`,
      },
    );
    const seen: { msgid: string; recipients: string[] }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: MESSAGING_MESSAGE_TOPIC.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (String(message.key) === `app/${app.agentid}`)
          seen.push(JSON.parse(String(message.value)));
      },
    });
    try {
      await eventually(
        () => expect(seen.find((e) => e.msgid === everyone.body.msgid)).toBeDefined(),
        {
          timeoutMs: 20_000,
        },
      );
    } finally {
      await consumer.disconnect();
    }
    expect(seen.find((e) => e.msgid === everyone.body.msgid)?.recipients.sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  });

  it('does not send the same message twice within the duplicate-check interval', async () => {
    const fresh = await corp.app({ departmentIds: [sales], userids: [], tagIds: [] });
    const body = { touser: ['bob'], msgtype: 'text', text: '重复检查', duplicateCheckSeconds: 600 };
    const first = await as(fresh.token).post('/v1/app-messages', body).expect(200);
    const second = await as(fresh.token).post('/v1/app-messages', body).expect(200);
    expect(second.body).toMatchObject({ msgid: first.body.msgid, duplicate: true });
    const rows = await messaging.app
      .get(DataSource)
      .query(
        'SELECT count(*)::int AS n FROM app_message_recipients WHERE corp_id = $1 AND message_id = $2',
        [corp.corpId, first.body.msgid],
      );
    expect(rows[0].n).toBe(1);
  });

  it('refuses, by name, what is over the per-member limit', async () => {
    const db = messaging.app.get(DataSource);
    const window = async () =>
      (await db.query<{ w: string }[]>(`SELECT date_trunc('minute', now())::text AS w`))[0].w;
    // The limit counts per minute window: redo the sequence if a window boundary fell inside it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const other = await corp.app({ departmentIds: [sales], userids: ['alice'], tagIds: [] });
      const started = await window();
      for (let i = 0; i < 3; i++) await send({ touser: ['bob'] }, {}, other.token).expect(200);
      const mixed = await send({ touser: ['bob', 'alice'] }, {}, other.token);
      const refused = await send({ touser: ['bob'] }, {}, other.token);
      if ((await window()) !== started) continue;
      expect(mixed.status).toBe(200);
      expect(mixed.body).toMatchObject({ recipients: 1, overquotauser: ['bob'] });
      expect([refused.status, refused.body.code]).toEqual([429, 'APP_MESSAGE_RATE_LIMITED']);
      return;
    }
    throw new Error('three minute windows in a row were cut by a boundary');
  });

  it('refuses bad requests and callers who are not apps, and changes nothing', async () => {
    const before = await messaging.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM app_messages WHERE corp_id = $1', [corp.corpId]);
    const cases: [Test, number, string][] = [
      [send({ touser: ['bob'] }, {}, tokens.alice), 403, 'APP_TOKEN_REQUIRED'],
      [send({}), 400, 'VALIDATION_FAILED'],
      [send({ touser: ['dave', 'ghost'] }), 422, 'APP_MESSAGE_NO_RECIPIENTS'],
      [send({ touser: ['bob'] }, { text: 'x'.repeat(5000) }), 413, 'MESSAGE_TOO_LARGE'],
      [send({ touser: ['bob'] }, { msgtype: 'image' }), 400, 'VALIDATION_FAILED'],
      [send({ touser: 'bob' }), 400, 'VALIDATION_FAILED'],
      [send({ touser: ['bob'] }, { extra: 1 }), 400, 'VALIDATION_FAILED'],
      [send({ toparty: [0] }), 400, 'VALIDATION_FAILED'],
      [send({ touser: ['bob'] }, { duplicateCheckSeconds: 99999 }), 400, 'VALIDATION_FAILED'],
    ];
    for (const [request, status, code] of cases) {
      const response = await request;
      expect([response.status, response.body.code]).toEqual([status, code]);
    }
    await messaging.http().post('/v1/app-messages').send({}).expect(401);
    await as(tokens.alice).get('/v1/app-messages?before=nope').expect(400);
    const after = await messaging.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM app_messages WHERE corp_id = $1', [corp.corpId]);
    expect(after[0].n).toBe(before[0].n);
  });

  it('stops an app’s old tokens once identity rotates its secret', async () => {
    const rotating = await corp.app({ departmentIds: [sales], userids: [], tagIds: [] });
    await send({ touser: ['bob'] }, {}, rotating.token).expect(200);
    const rotated = await corp.identity('POST', `/v1/apps/${rotating.agentid}/secret`);
    expect(rotated.status).toBe(200);
    // Until messaging (and its standing cache) has learnt of the rotation, the old token still
    // works; polling with sends would spend bob's per-app rate limit, so watch the standing.
    await eventually(
      async () => {
        const standing = await messaging.app
          .get(Directory)
          .appStanding(corp.corpId, rotating.agentid);
        expect(standing?.tokensValidAfter).toBeInstanceOf(Date);
      },
      // The rotation reaches messaging through Kafka: generous for a machine running other suites.
      { timeoutMs: 60_000 },
    );
    const response = await send({ touser: ['bob'] }, {}, rotating.token);
    expect([response.status, response.body.code]).toEqual([401, 'TOKEN_REVOKED']);
    const fresh = await corp.appToken((rotated.body as { secret: string }).secret);
    await send({ touser: ['bob'] }, {}, fresh).expect(200);
  });
});
