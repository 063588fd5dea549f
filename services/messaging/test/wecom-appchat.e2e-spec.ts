import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MESSAGING_CONVERSATION_TOPIC, MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { eventually } from '@qiwei/testing';
import type { Consumer } from 'kafkajs';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

interface SeenEvent {
  type: string;
  key: string;
  data: Record<string, unknown>;
}

type App = { agentid: number; secret: string; token: string };

/**
 * WeCom's appchat (群聊会话): an app creates groups of members in its range under a chatid,
 * manages only its own, and posts into them as `app:<agentid>` through the one message send
 * path (sequence numbers, sent events, real-time frames); conversation events as for any group.
 */
describe('messaging: WeCom app chats (/cgi-bin/appchat)', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let sales: number;
  let tokens: Record<string, string>;
  let app: App;
  let sibling: App;
  let stranger: App;
  let consumer: Consumer;
  const seen: SeenEvent[] = [];

  beforeAll(async () => {
    messaging = await bootMessaging({
      APP_CHAT_PER_MEMBER_PER_MINUTE: '8',
      APP_CHAT_PER_MEMBER_PER_DAY: '12',
    });
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    sales = (
      (await corp.identity('POST', '/v1/departments', { name: '销售部', parentId: 1 })).body as {
        id: number;
      }
    ).id;
    const finance = (
      (await corp.identity('POST', '/v1/departments', { name: '财务部', parentId: 1 })).body as {
        id: number;
      }
    ).id;
    tokens = {
      alice: await corp.member('alice'),
      bob: await corp.member('bob', sales),
      carol: await corp.member('carol', sales),
      frank: await corp.member('frank', sales),
      dave: await corp.member('dave', finance),
    };
    await other.member('erin');
    await other.member('erin2');
    const range = { departmentIds: [sales], userids: ['alice'], tagIds: [] };
    app = await corp.app(range, '项目助手');
    app.token = await corp.gettoken(app.secret);
    sibling = await corp.app(range, '日程');
    stranger = await other.app({ departmentIds: [1], userids: [], tagIds: [] });
    await eventually(
      async () => {
        const [row] = await db().query<{ n: string }[]>(
          'SELECT count(*) AS n FROM directory_departments WHERE corp_id = $1',
          [corp.corpId],
        );
        if (Number(row.n) < 3) throw new Error('directory not caught up');
      },
      { timeoutMs: 30_000 },
    );
    consumer = createKafka({ brokers: messaging.brokers, clientId: 'appchat-test' }).consumer({
      groupId: `appchat-test-${Date.now()}`,
    });
    await consumer.connect();
    for (const topic of [MESSAGING_MESSAGE_TOPIC, MESSAGING_CONVERSATION_TOPIC])
      await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        seen.push({
          type: message.headers?.ce_type?.toString() ?? '',
          key: String(message.key),
          data: JSON.parse(String(message.value)) as Record<string, unknown>,
        });
      },
    });
  }, 180_000);
  afterAll(async () => {
    await consumer?.disconnect();
    await messaging?.close();
  });

  const db = () => messaging.app.get(DataSource);
  const withToken = (path: string, token: string | null) =>
    token === null ? path : `${path}${path.includes('?') ? '&' : '?'}access_token=${token}`;
  const post = (path: string, body: object | string, token: string | null = app.token) =>
    messaging
      .http()
      .post(withToken(path, token))
      .set('content-type', 'application/json')
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  const get = (path: string, token: string | null = app.token) =>
    messaging.http().get(withToken(path, token));
  const ok = async (request: Test): Promise<Record<string, unknown>> => {
    const response = await request;
    expect([response.status, response.body.errcode, response.body.errmsg]).toEqual([200, 0, 'ok']);
    return response.body as Record<string, unknown>;
  };
  const errcodeOf = async (request: Test): Promise<number> => {
    const response = await request;
    expect(response.status).toBe(200);
    expect(response.body.errmsg).toEqual(expect.any(String));
    return response.body.errcode as number;
  };
  const info = async (chatid: string) =>
    (await ok(get(`/cgi-bin/appchat/get?chatid=${chatid}`))).chat_info as {
      chatid: string;
      name: string;
      owner: string;
      userlist: string[];
      chat_type: number;
    };
  const conversationOf = async (chatid: string) => {
    const [row] = await db().query<{ conversation_id: string }[]>(
      'SELECT conversation_id FROM app_chats WHERE corp_id = $1 AND chatid = $2',
      [corp.corpId, chatid],
    );
    return row.conversation_id;
  };
  const v1 = (token: string) => ({
    get: (path: string) => messaging.http().get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object) =>
      messaging.http().post(path).set('authorization', `Bearer ${token}`).send(body),
  });
  const conversationEvents = (id: string) =>
    seen
      .filter((e) => e.key === id && e.type.startsWith('qiwei.messaging.conversation.'))
      .map((e) => e.type.split('.')[3]);

  it('creates a group of members in the app’s range under the chatid, which its members use like any group', async () => {
    await ok(
      post('/cgi-bin/appchat/create', {
        chatid: 'Proj2025',
        name: '项目群',
        owner: 'alice',
        userlist: ['alice', 'bob', 'carol', 'bob'],
      }),
    );
    expect(await info('Proj2025')).toEqual({
      chatid: 'Proj2025',
      name: '项目群',
      owner: 'alice',
      userlist: ['alice', 'bob', 'carol'],
      chat_type: 0,
    });
    const id = await conversationOf('Proj2025');
    const seenByBob = await v1(tokens.bob).get(`/v1/conversations/${id}`).expect(200);
    expect(seenByBob.body).toMatchObject({ kind: 'group', name: '项目群', owner: 'alice' });
    await v1(tokens.dave).get(`/v1/conversations/${id}`).expect(404);
    await eventually(() => expect(conversationEvents(id)).toEqual(['created']), {
      timeoutMs: 20_000,
    });
    // Members talk in it as in any group.
    await v1(tokens.bob)
      .post(`/v1/conversations/${id}/messages`, { clientMsgId: 'b1', type: 'text', text: '收到' })
      .expect(201);

    // Without chatid or owner: a generated chatid, the first of userlist owns it.
    const generated = await ok(post('/cgi-bin/appchat/create', { userlist: ['carol', 'bob'] }));
    expect(generated.chatid).toMatch(/^[0-9a-zA-Z]{1,32}$/);
    expect(await info(String(generated.chatid))).toMatchObject({ owner: 'carol', name: '' });
  });

  it('updates its chat: members added, renamed and transferred, members removed — each announced', async () => {
    await ok(
      post('/cgi-bin/appchat/create', {
        chatid: 'weekly',
        name: '周会',
        owner: 'alice',
        userlist: ['alice', 'bob', 'carol'],
      }),
    );
    const id = await conversationOf('weekly');
    await ok(
      post('/cgi-bin/appchat/update', {
        chatid: 'weekly',
        name: '周会（新）',
        owner: 'frank',
        add_user_list: ['frank'],
        del_user_list: ['alice', 'dave'],
      }),
    );
    expect(await info('weekly')).toEqual({
      chatid: 'weekly',
      name: '周会（新）',
      owner: 'frank',
      userlist: ['bob', 'carol', 'frank'],
      chat_type: 0,
    });
    await v1(tokens.alice).get(`/v1/conversations/${id}`).expect(404);
    await eventually(
      () =>
        expect(conversationEvents(id)).toEqual([
          'created',
          'members_added',
          'settings_changed',
          'members_removed',
        ]),
      { timeoutMs: 20_000 },
    );
    const removed = seen.find(
      (e) => e.key === id && e.type === 'qiwei.messaging.conversation.members_removed.v1',
    );
    expect(removed?.data).toMatchObject({
      userids: ['alice'],
      by: `app:${app.agentid}`,
      reason: 'removed',
    });
    const roles = (
      await v1(tokens.frank).get(`/v1/conversations/${id}`).expect(200)
    ).body.participants.map((p: { userid: string; role: string }) => [p.userid, p.role]);
    expect(roles).toEqual([
      ['bob', 'member'],
      ['carol', 'member'],
      ['frank', 'owner'],
    ]);
  });

  it('posts into its chat as app:<agentid> through the one send path: seq, sent event, frames', async () => {
    await ok(
      post('/cgi-bin/appchat/create', { chatid: 'ops', userlist: ['alice', 'bob'], name: '运维' }),
    );
    const id = await conversationOf('ops');
    // A muted group: the app posts like an admin.
    await messaging
      .http()
      .patch(`/v1/conversations/${id}`)
      .set('authorization', `Bearer ${tokens.alice}`)
      .send({ onlyAdminsPost: true })
      .expect(200);
    await messaging.app.listen(0, '127.0.0.1');
    const { port } = messaging.app.getHttpServer().address() as AddressInfo;
    const frames: { type: string; message?: { sender: string; type: string; seq: number } }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, {
      headers: { authorization: `Bearer ${tokens.bob}` },
    });
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
    try {
      await eventually(() => expect(frames.some((f) => f.type === 'ready')).toBe(true));
      const image = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        randomBytes(3000),
      ]);
      const uploaded = await ok(
        messaging
          .http()
          .post(withToken('/cgi-bin/media/upload?type=image', app.token))
          .attach('media', image, { filename: '告警.png', contentType: 'image/png' }),
      );
      const card = { title: '告警', description: 'CPU 95%', url: 'https://ops.example.com/1' };
      const bodies = [
        { msgtype: 'text', text: { content: '今晚 22:00 发布' } },
        { msgtype: 'markdown', markdown: { content: '**发布** 完成' } },
        { msgtype: 'image', image: { media_id: uploaded.media_id } },
        { msgtype: 'textcard', textcard: { ...card, btntxt: '查看' } },
        {
          msgtype: 'news',
          news: { articles: [{ title: '复盘', url: 'https://ops.example.com/r' }] },
        },
      ];
      for (const body of bodies)
        await ok(post('/cgi-bin/appchat/send', { chatid: 'ops', ...body }));

      const page = await v1(tokens.bob).get(`/v1/conversations/${id}/messages`).expect(200);
      const sender = `app:${app.agentid}`;
      expect(
        page.body.items.map((m: { seq: number; sender: string; type: string }) => [
          m.seq,
          m.sender,
          m.type,
        ]),
      ).toEqual([
        [1, sender, 'text'],
        [2, sender, 'markdown'],
        [3, sender, 'image'],
        [4, sender, 'textcard'],
        [5, sender, 'news'],
      ]);
      expect(page.body.items[2].media).toMatchObject({
        kind: 'image',
        size: image.length,
        sha256: createHash('sha256').update(image).digest('hex'),
      });
      expect(page.body.items[3].textcard).toEqual({ ...card, btntxt: '查看' });
      await eventually(
        () => {
          const sent = seen
            .filter((e) => e.key === id && e.type === 'qiwei.messaging.message.sent.v1')
            .map((e) => e.data.message as { sender: string; seq: string; participants: string[] });
          expect(sent.map((m) => [m.sender, m.seq])).toEqual(
            [1, 2, 3, 4, 5].map((seq) => [sender, String(seq)]),
          );
          expect(sent[0].participants).toEqual(['alice', 'bob']);
        },
        { timeoutMs: 20_000 },
      );
      await eventually(() =>
        expect(
          frames.filter((f) => f.type === 'message' && f.message?.sender === sender).length,
        ).toBe(5),
      );
      // Members reply; a group admin recalls the app's message as any other.
      await v1(tokens.alice).post(`/v1/conversations/${id}/messages/1/recall`, {}).expect(200);
    } finally {
      socket.close();
    }
  });

  it('answers bad, unauthorised and cross-tenant appchat calls with WeCom’s errcodes, changing nothing', async () => {
    await ok(post('/cgi-bin/appchat/create', { chatid: 'guarded', userlist: ['alice', 'bob'] }));
    // chatids are per corp: another corp's app may use the same one, and sees only its own.
    await ok(
      post(
        '/cgi-bin/appchat/create',
        { chatid: 'elsewhere', userlist: ['erin', 'erin2'] },
        stranger.token,
      ),
    );
    await ok(post('/cgi-bin/appchat/create', { chatid: 'elsewhere', userlist: ['alice', 'bob'] }));
    expect(await info('elsewhere')).toMatchObject({ userlist: ['alice', 'bob'] });
    const chats = async () =>
      Number(
        (
          await db().query<{ n: string }[]>(
            'SELECT count(*) AS n FROM app_chats WHERE corp_id = $1',
            [corp.corpId],
          )
        )[0].n,
      );
    const before = { chats: await chats(), guarded: await info('guarded') };
    const guardedId = await conversationOf('guarded');
    const lastSeq = async () =>
      (await v1(tokens.alice).get(`/v1/conversations/${guardedId}`).expect(200)).body
        .lastSeq as number;
    const seqBefore = await lastSeq();
    const foreignMedia = String(
      (
        await ok(
          messaging
            .http()
            .post(withToken('/cgi-bin/media/upload?type=image', stranger.token))
            .attach('media', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]), 'x.png'),
        )
      ).media_id,
    );
    const create = (body: object | string, token: string | null = app.token) =>
      post('/cgi-bin/appchat/create', body, token);
    const update = (body: object, token: string | null = app.token) =>
      post('/cgi-bin/appchat/update', { chatid: 'guarded', ...body }, token);
    const send = (body: object, token: string | null = app.token) =>
      post('/cgi-bin/appchat/send', { chatid: 'guarded', ...body }, token);
    const say = { msgtype: 'text', text: { content: '你好' } };
    const cases: [Test, number][] = [
      [create({ chatid: 'guarded', userlist: ['alice', 'bob'] }), 86215],
      [create({ chatid: 'bad-id', userlist: ['alice', 'bob'] }), 86001],
      [create({ chatid: 'x'.repeat(33), userlist: ['alice', 'bob'] }), 86001],
      [create({ userlist: ['alice'] }), 86006],
      [create({ userlist: ['alice', 'alice'] }), 86006],
      [create({ name: 'x' }), 86006],
      [create({ userlist: ['alice', 'bob'], owner: 'carol' }), 86005],
      [create({ userlist: ['alice', 'bob'], owner: 'bad owner' }), 86005],
      [create({ userlist: ['alice', 'dave'] }), 60011],
      [create({ userlist: ['alice', 'ghost'] }), 86216],
      [create({ userlist: ['alice', 'erin'] }), 86216],
      [create({ userlist: ['alice', 'bad user'] }), 86216],
      [create({ userlist: ['alice', 'bob'], name: '名'.repeat(51) }), 86004],
      [create({ userlist: ['alice', 'bob'], extra: 1 }), 40058],
      [create('{"userlist": ["alice",'), 47001],
      [create({ userlist: ['alice', 'bob'] }, null), 41001],
      [create({ userlist: ['alice', 'bob'] }, tokens.alice), 40014],
      [update({ name: '别人的' }, sibling.token), 86008],
      [update({ name: '别人的' }, stranger.token), 86003],
      [post('/cgi-bin/appchat/update', { chatid: 'nochat', name: 'x' }), 86003],
      [post('/cgi-bin/appchat/update', { name: 'x' }), 86001],
      [update({ del_user_list: ['bob'] }), 86006],
      [update({ add_user_list: ['dave'] }), 60011],
      [update({ add_user_list: ['ghost'] }), 86216],
      [update({ owner: 'carol' }), 86005],
      [update({ owner: 'bob', del_user_list: ['bob'], add_user_list: ['carol'] }), 86005],
      [update({ add_user_list: ['carol'], del_user_list: ['carol'] }), 86007],
      [update({}), 40058],
      [get('/cgi-bin/appchat/get?chatid=guarded', sibling.token), 86008],
      [get('/cgi-bin/appchat/get?chatid=guarded', stranger.token), 86003],
      [get('/cgi-bin/appchat/get'), 86001],
      [get('/cgi-bin/appchat/get?chatid=guarded', null), 41001],
      [send(say, sibling.token), 86008],
      [send(say, stranger.token), 86003],
      [post('/cgi-bin/appchat/send', say), 86001],
      [send({ msgtype: 'mpnews', mpnews: {} }), 40008],
      [send({ msgtype: 'text', text: { content: '' } }), 44004],
      [send({ msgtype: 'text', text: { content: '长'.repeat(683) } }), 45002],
      [send({ msgtype: 'image', image: { media_id: foreignMedia } }), 40007],
      [send({ msgtype: 'file', file: {} }), 41006],
    ];
    for (const [i, [request, errcode]] of cases.entries())
      expect([i, await errcodeOf(request)]).toEqual([i, errcode]);
    expect(await chats()).toBe(before.chats);
    expect(await info('guarded')).toEqual(before.guarded);
    expect(await lastSeq()).toBe(seqBefore);
  });

  it('limits what each member receives from an app in its chats, refusing a whole post (45009) rather than dropping it for some', async () => {
    await ok(post('/cgi-bin/appchat/create', { chatid: 'quota1', userlist: ['carol', 'frank'] }));
    await ok(post('/cgi-bin/appchat/create', { chatid: 'quota2', userlist: ['alice', 'carol'] }));
    const quota1 = await conversationOf('quota1');
    const quota2 = await conversationOf('quota2');
    const say = (chatid: string, token: string | null = app.token) =>
      post('/cgi-bin/appchat/send', { chatid, msgtype: 'text', text: { content: '提醒' } }, token);
    const lastSeq = async (id: string) =>
      (await v1(tokens.carol).get(`/v1/conversations/${id}`).expect(200)).body.lastSeq as number;
    const counters = async () =>
      Object.fromEntries(
        (
          await db().query<{ userid: string; minute_count: number; day_count: number }[]>(
            `SELECT userid, minute_count, day_count FROM app_chat_send_counters
              WHERE corp_id = $1 AND agentid = $2 ORDER BY userid`,
            [corp.corpId, app.agentid],
          )
        ).map((r) => [r.userid, [r.minute_count, r.day_count]]),
      ) as Record<string, [number, number]>;
    // The windows by the database clock: a phase is redone if a boundary fell inside it.
    const windows = async () =>
      (
        await db().query<{ w: string }[]>(
          `SELECT date_trunc('minute', now())::text || ' ' || date_trunc('day', now(), 'UTC')::text AS w`,
        )
      )[0].w;
    const withinOneWindow = async (phase: () => Promise<void>) => {
      for (let attempt = 0; attempt < 3; attempt++) {
        await db().query('DELETE FROM app_chat_send_counters WHERE corp_id = $1 AND agentid = $2', [
          corp.corpId,
          app.agentid,
        ]);
        const started = await windows();
        try {
          await phase();
          return;
        } catch (error) {
          if ((await windows()) === started) throw error;
        }
      }
      throw new Error('three windows in a row were cut by a boundary');
    };

    // APP_CHAT_PER_MEMBER_PER_MINUTE (8): carol and frank each receive 8 this minute.
    await withinOneWindow(async () => {
      const seq = await lastSeq(quota1);
      for (let i = 0; i < 8; i++) await ok(say('quota1'));
      const refused = await say('quota1');
      expect([refused.status, refused.body.errcode]).toEqual([200, 45009]);
      expect(refused.body.errmsg).toContain('APP_CHAT_RATE_LIMITED');
      expect(refused.body.errmsg).toContain('carol, frank');
      expect(await lastSeq(quota1)).toBe(seq + 8);
      // carol is at the limit in every chat of the app: nothing goes to alice either, whose
      // count stays as it was.
      const blocked = await say('quota2');
      expect(blocked.body.errcode).toBe(45009);
      expect(blocked.body.errmsg).toContain('carol');
      expect(blocked.body.errmsg).not.toContain('alice');
      expect(await lastSeq(quota2)).toBe(0);
      expect(await counters()).toEqual({ carol: [8, 8], frank: [8, 8] });
    });
    // Per app: another app's chat with carol is not limited by this one's.
    await ok(
      post(
        '/cgi-bin/appchat/create',
        { chatid: 'quota3', userlist: ['carol', 'frank'] },
        sibling.token,
      ),
    );
    await ok(say('quota3', sibling.token));

    // APP_CHAT_PER_MEMBER_PER_DAY (12, UTC days): the minute is fresh, the day is not.
    await withinOneWindow(async () => {
      await ok(say('quota1'));
      await db().query(
        `UPDATE app_chat_send_counters SET minute_start = minute_start - interval '1 minute',
           day_count = 12
          WHERE corp_id = $1 AND agentid = $2 AND userid = 'carol'`,
        [corp.corpId, app.agentid],
      );
      const seq = await lastSeq(quota2);
      const daily = await say('quota2');
      expect(daily.body.errcode).toBe(45009);
      expect(await lastSeq(quota2)).toBe(seq);
      // The next day.
      await db().query(
        `UPDATE app_chat_send_counters SET day_start = day_start - interval '1 day'
          WHERE corp_id = $1 AND agentid = $2`,
        [corp.corpId, app.agentid],
      );
      await ok(say('quota2'));
      expect(await lastSeq(quota2)).toBe(seq + 1);
      expect((await counters()).carol).toEqual([1, 1]);
    });

    // Refusals of other apps and corps, and malformed posts, count for nobody.
    const before = await counters();
    expect(await errcodeOf(say('quota1', stranger.token))).toBe(86003);
    expect(await errcodeOf(say('quota1', tokens.carol))).toBe(40014);
    expect(await errcodeOf(say('quota1', null))).toBe(41001);
    expect(
      await errcodeOf(post('/cgi-bin/appchat/send', { chatid: 'quota1', msgtype: 'text' })),
    ).toBe(44004);
    expect(await counters()).toEqual(before);
  });

  it('posts template cards into its chat: kept whole, in the sent event and frames, found by search', async () => {
    await ok(post('/cgi-bin/appchat/create', { chatid: 'cards', userlist: ['alice', 'bob'] }));
    const id = await conversationOf('cards');
    // Listening since the earlier test that posts into its chat (or from here when run alone).
    if (!messaging.app.getHttpServer().listening) await messaging.app.listen(0, '127.0.0.1');
    const { port } = messaging.app.getHttpServer().address() as AddressInfo;
    const frames: { type: string; message?: { type: string; templateCard?: unknown } }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, {
      headers: { authorization: `Bearer ${tokens.bob}` },
    });
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
    try {
      await eventually(() => expect(frames.some((f) => f.type === 'ready')).toBe(true));
      await ok(
        post('/cgi-bin/appchat/send', {
          chatid: 'cards',
          msgtype: 'template_card',
          template_card: {
            card_type: 'text_notice',
            main_title: { title: '发布窗口', desc: '今晚十点' },
            horizontal_content_list: [{ keyname: '负责人', value: '鲍勃', type: 3, userid: 'bob' }],
            card_action: { type: 1, url: 'https://ops.example.com/release' },
          },
        }),
      );
      const expected = {
        cardType: 'text_notice',
        taskId: '',
        source: null,
        mainTitle: { title: '发布窗口', desc: '今晚十点' },
        quoteArea: null,
        emphasisContent: null,
        subTitleText: '',
        horizontalContentList: [
          { type: 3, keyname: '负责人', value: '鲍勃', url: '', userid: 'bob' },
        ],
        jumpList: [],
        cardAction: { type: 1, url: 'https://ops.example.com/release', appid: '', pagepath: '' },
        cardImage: null,
        imageTextArea: null,
        verticalContentList: [],
      };
      const page = await v1(tokens.bob).get(`/v1/conversations/${id}/messages`).expect(200);
      expect(page.body.items[0]).toMatchObject({
        seq: 1,
        sender: `app:${app.agentid}`,
        type: 'template_card',
        templateCard: expected,
      });
      await eventually(() =>
        expect(
          frames.find((f) => f.type === 'message' && f.message?.type === 'template_card')?.message
            ?.templateCard,
        ).toEqual(expected),
      );
      await eventually(
        () => {
          const sent = seen.find(
            (e) => e.key === id && e.type === 'qiwei.messaging.message.sent.v1',
          );
          expect(sent?.data.message).toMatchObject({
            content: {
              type: 'template_card',
              templateCard: { cardType: 'text_notice', mainTitle: { title: '发布窗口' } },
            },
          });
        },
        { timeoutMs: 20_000 },
      );
      // Members find it by the card's words.
      const found = await v1(tokens.alice).get('/v1/messages/search?q=发布窗口').expect(200);
      expect(
        found.body.items.map((h: { conversation: { id: string } }) => h.conversation.id),
      ).toContain(id);
      // A malformed or callback card changes nothing.
      expect(
        await errcodeOf(
          post('/cgi-bin/appchat/send', {
            chatid: 'cards',
            msgtype: 'template_card',
            template_card: {
              card_type: 'vote_interaction',
              card_action: { type: 1, url: 'https://x.cn' },
            },
          }),
        ),
      ).toBe(40008);
      expect((await v1(tokens.bob).get(`/v1/conversations/${id}`).expect(200)).body.lastSeq).toBe(
        1,
      );
    } finally {
      socket.close();
    }
  });

  it('keeps a chat within the member limit its owner set through /v1', async () => {
    await ok(post('/cgi-bin/appchat/create', { chatid: 'small', userlist: ['alice', 'carol'] }));
    const id = await conversationOf('small');
    await messaging
      .http()
      .patch(`/v1/conversations/${id}`)
      .set('authorization', `Bearer ${tokens.alice}`)
      .send({ memberLimit: 2 })
      .expect(200);
    const full = await post('/cgi-bin/appchat/update', {
      chatid: 'small',
      add_user_list: ['bob'],
    });
    expect([full.body.errcode, full.body.errmsg]).toEqual([86006, expect.stringContaining('2')]);
    // Swapping one member for another still fits.
    await ok(
      post('/cgi-bin/appchat/update', {
        chatid: 'small',
        add_user_list: ['bob'],
        del_user_list: ['carol'],
      }),
    );
    expect((await info('small')).userlist).toEqual(['alice', 'bob']);
  });

  it('forgets a chat whose group was disbanded', async () => {
    await ok(post('/cgi-bin/appchat/create', { chatid: 'brief', userlist: ['alice', 'bob'] }));
    const id = await conversationOf('brief');
    await messaging
      .http()
      .delete(`/v1/conversations/${id}`)
      .set('authorization', `Bearer ${tokens.alice}`)
      .expect(204);
    expect(await errcodeOf(get('/cgi-bin/appchat/get?chatid=brief'))).toBe(86003);
    expect(
      await errcodeOf(
        post('/cgi-bin/appchat/send', { chatid: 'brief', msgtype: 'text', text: { content: 'x' } }),
      ),
    ).toBe(86003);
    expect(await errcodeOf(post('/cgi-bin/appchat/update', { chatid: 'brief', name: 'x' }))).toBe(
      86003,
    );
  });
});
