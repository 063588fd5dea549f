import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { bearer, eventually } from '@qiwei/testing';
import type { Test } from 'supertest';
import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

// Its base64 (1.4 MB) is over the service's 1 MB body limit: the webhook takes larger bodies.
const IMAGE_LIMIT = 1024 * 1024;
const PER_MINUTE = 5;

/** A PNG's signature and chunk header, then random bytes: enough for type detection. */
const png = (size: number) =>
  Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    randomBytes(size - 12),
  ]);
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/**
 * Group robots (群机器人): owner and admins manage them; WeCom's webhook posts text, markdown,
 * image and news into the group as `robot:<id>`, in WeCom's envelope, at most
 * ROBOT_MESSAGES_PER_MINUTE a minute.
 */
describe('messaging: group robots', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;
  let dave: string;
  let eve: string;
  let groupId: string;

  beforeAll(async () => {
    messaging = await bootMessaging({
      ROBOT_MESSAGES_PER_MINUTE: String(PER_MINUTE),
      ROBOT_IMAGE_MAX_BYTES: String(IMAGE_LIMIT),
    });
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    [alice, bob, carol, dave] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
      corp.member('dave'),
    ]);
    eve = await other.member('eve');
    await messaging.knows(corp.corpId, ['alice', 'bob', 'carol', 'dave']);
    groupId = await group();
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  /** A group of alice (owner), bob (admin) and carol. */
  const group = async () => {
    const created = await as(alice)
      .post('/v1/conversations', { kind: 'group', name: '发布群', members: ['bob', 'carol'] })
      .expect(201);
    await messaging
      .http()
      .patch(`/v1/conversations/${created.body.id}`)
      .set('authorization', `Bearer ${alice}`)
      .send({ admins: ['bob'] })
      .expect(200);
    return created.body.id as string;
  };
  const addRobot = async (conversationId = groupId, token = alice, name = '构建通知') =>
    (await as(token).post(`/v1/conversations/${conversationId}/robots`, { name }).expect(201))
      .body as { id: string; key: string; sender: string };
  const webhook = (key: string | undefined, body: object | string) => {
    const request = messaging
      .http()
      .post(key === undefined ? '/cgi-bin/webhook/send' : `/cgi-bin/webhook/send?key=${key}`)
      .set('content-type', 'application/json');
    return request.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const say = (content: string) => ({ msgtype: 'text', text: { content } });
  const lastSeq = async (conversationId = groupId) =>
    (await as(alice).get(`/v1/conversations/${conversationId}`).expect(200)).body.lastSeq as number;

  it('lets the owner and admins add, list, rotate and delete robots, and nobody else', async () => {
    const byOwner = await addRobot();
    expect(byOwner.key.length).toBeGreaterThanOrEqual(32);
    expect(byOwner.sender).toBe(`robot:${byOwner.id}`);
    const byAdmin = await addRobot(groupId, bob, '日报');
    const path = `/v1/conversations/${groupId}/robots`;

    const listed = await as(bob).get(path).expect(200);
    const mine = listed.body.items.filter((r: { id: string }) =>
      [byOwner.id, byAdmin.id].includes(r.id),
    );
    expect(mine.map((r: { name: string }) => r.name)).toEqual(['构建通知', '日报']);
    for (const robot of listed.body.items) expect(robot).not.toHaveProperty('key');
    // Only the key's hash is kept.
    const [stored] = await messaging.app
      .get(DataSource)
      .query<{ key_hash: Buffer }[]>('SELECT key_hash FROM group_robots WHERE id = $1', [
        byOwner.id,
      ]);
    expect(stored.key_hash.equals(createHash('sha256').update(byOwner.key).digest())).toBe(true);

    // A member, a stranger to the group, another corp: refused; the group is unseen by the last two.
    const member = await as(carol).post(path, { name: 'x' });
    expect([member.status, member.body.code]).toEqual([403, 'GROUP_ROLE_REQUIRED']);
    expect((await as(carol).get(path)).status).toBe(403);
    for (const token of [dave, eve]) {
      const outsider = await as(token).post(path, { name: 'x' });
      expect([outsider.status, outsider.body.code]).toEqual([404, 'CONVERSATION_NOT_FOUND']);
      await as(token).get(path).expect(404);
      await as(token).delete(`${path}/${byOwner.id}`).expect(404);
      await as(token).post(`${path}/${byOwner.id}/key`).expect(404);
    }
    await as(carol).delete(`${path}/${byOwner.id}`).expect(403);
    const bad = await as(alice).post(path, { name: '  ' });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const single = await as(alice)
      .post('/v1/conversations', { kind: 'single', peer: 'dave' })
      .expect(201);
    const notGroup = await as(alice).post(`/v1/conversations/${single.body.id}/robots`, {
      name: 'x',
    });
    expect([notGroup.status, notGroup.body.code]).toEqual([422, 'NOT_A_GROUP']);

    // Rotation: the old key stops working, the new one works.
    const rotated = await as(bob).post(`${path}/${byOwner.id}/key`).expect(200);
    expect(rotated.body.id).toBe(byOwner.id);
    expect(rotated.body.key).not.toBe(byOwner.key);
    expect(rotated.body.keyRotatedAt).not.toBeNull();
    expect((await webhook(byOwner.key, say('旧密钥')).expect(200)).body.errcode).toBe(93000);
    expect((await webhook(rotated.body.key, say('新密钥')).expect(200)).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
    });

    await as(alice).delete(`${path}/${byOwner.id}`).expect(204);
    expect((await webhook(rotated.body.key, say('已删除')).expect(200)).body.errcode).toBe(93000);
    const again = await as(alice).delete(`${path}/${byOwner.id}`);
    expect([again.status, again.body.code]).toEqual([404, 'ROBOT_NOT_FOUND']);
    const remaining = await as(alice).get(path).expect(200);
    expect(remaining.body.items.map((r: { id: string }) => r.id)).not.toContain(byOwner.id);
  });

  it('posts each msgtype into the group as the robot, delivered and announced like any message', async () => {
    const robot = await addRobot(groupId, alice, '监控');
    const listen = async () => {
      await messaging.app.listen(0, '127.0.0.1');
      const { port } = messaging.app.getHttpServer().address() as AddressInfo;
      return `ws://127.0.0.1:${port}/v1/stream`;
    };
    const frames: { type: string; message?: { sender: string; type: string } }[] = [];
    const socket = new WebSocket(await listen(), { headers: { authorization: `Bearer ${carol}` } });
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
    await eventually(() => expect(frames.some((f) => f.type === 'ready')).toBe(true));
    const consumer = createKafka({ brokers: messaging.brokers, clientId: 'robots-test' }).consumer({
      groupId: `robots-test-${Date.now()}`,
    });
    const announced: { sender: string; type: string; articles: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: MESSAGING_MESSAGE_TOPIC.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const type = message.headers?.ce_type?.toString();
        if (type !== 'qiwei.messaging.message.sent.v1' || !message.value) return;
        const sent = (
          JSON.parse(String(message.value)) as {
            message: { sender: string; content: { type: string; articles?: unknown[] } };
          }
        ).message;
        if (sent.sender === robot.sender)
          announced.push({
            sender: sent.sender,
            type: sent.content.type,
            articles: sent.content.articles?.length ?? 0,
          });
      },
    });
    try {
      const before = await lastSeq();
      const image = png(IMAGE_LIMIT);
      const articles = [
        {
          title: '发布完成',
          description: 'v2.3.0 已上线',
          url: 'https://ci.example.com/42',
          picurl: 'https://ci.example.com/42.png',
        },
        { title: '变更记录', url: 'https://ci.example.com/42/changes' },
      ];
      const bodies = [
        {
          msgtype: 'text',
          text: {
            content: '构建失败，请查看',
            mentioned_list: ['carol'],
            mentioned_mobile_list: ['13800001111'],
          },
        },
        { msgtype: 'markdown', markdown: { content: '## 日报\n> 完成 **3** 项' } },
        { msgtype: 'image', image: { base64: image.toString('base64'), md5: md5(image) } },
        { msgtype: 'news', news: { articles } },
      ];
      for (const body of bodies)
        expect((await webhook(robot.key, body).expect(200)).body).toEqual({
          errcode: 0,
          errmsg: 'ok',
        });

      const page = await as(carol)
        .get(`/v1/conversations/${groupId}/messages?afterSeq=${before}`)
        .expect(200);
      const items = page.body.items;
      expect(items.map((m: { seq: number }) => m.seq)).toEqual([
        before + 1,
        before + 2,
        before + 3,
        before + 4,
      ]);
      for (const m of items) expect(m.sender).toBe(robot.sender);
      expect(items[0]).toMatchObject({
        type: 'text',
        text: '构建失败，请查看',
        mentions: ['carol'],
      });
      expect(items[1]).toMatchObject({ type: 'markdown', text: '## 日报\n> 完成 **3** 项' });
      expect(items[2]).toMatchObject({
        type: 'image',
        media: {
          kind: 'image',
          contentType: 'image/png',
          size: image.length,
          sha256: createHash('sha256').update(image).digest('hex'),
        },
      });
      expect(items[3]).toMatchObject({
        type: 'news',
        text: '',
        articles: [articles[0], { ...articles[1], description: '', picurl: '' }],
      });

      // Participants download the image; others do not see it.
      const download = await as(carol).get(`/v1/media/${items[2].media.mediaId}`).expect(200);
      expect(Buffer.from(await (await fetch(download.body.url)).arrayBuffer())).toEqual(image);
      await as(dave).get(`/v1/media/${items[2].media.mediaId}`).expect(404);

      await eventually(() =>
        expect(
          frames
            .filter((f) => f.type === 'message' && f.message?.sender === robot.sender)
            .map((f) => f.message?.type),
        ).toEqual(['text', 'markdown', 'image', 'news']),
      );
      await eventually(
        () =>
          expect(announced).toEqual([
            { sender: robot.sender, type: 'text', articles: 0 },
            { sender: robot.sender, type: 'markdown', articles: 0 },
            { sender: robot.sender, type: 'image', articles: 0 },
            { sender: robot.sender, type: 'news', articles: 2 },
          ]),
        { timeoutMs: 20_000 },
      );
    } finally {
      socket.close();
      await consumer.disconnect();
    }
  });

  it('answers bad input with WeCom’s errcode and changes nothing', async () => {
    const robot = await addRobot(groupId, alice, '校验');
    const before = await lastSeq();
    const image = png(2048);
    const big = png(IMAGE_LIMIT + 1);
    const jpegless = randomBytes(2048);
    const cases: [string | undefined, object | string, number][] = [
      [randomBytes(32).toString('base64url'), say('hi'), 93000],
      [undefined, say('hi'), 93000],
      [
        robot.key,
        { msgtype: 'image', image: { base64: image.toString('base64'), md5: md5(big) } },
        40058,
      ],
      [
        robot.key,
        { msgtype: 'image', image: { base64: big.toString('base64'), md5: md5(big) } },
        40009,
      ],
      [
        robot.key,
        { msgtype: 'image', image: { base64: jpegless.toString('base64'), md5: md5(jpegless) } },
        40005,
      ],
      [robot.key, { msgtype: 'image', image: { base64: '@@@@', md5: md5(image) } }, 40058],
      [robot.key, { msgtype: 'template_card', template_card: {} }, 40008],
      [robot.key, { msgtype: 'voice' }, 40008],
      [robot.key, { text: { content: 'no msgtype' } }, 40008],
      [robot.key, say(''), 44004],
      [robot.key, say('   '), 44004],
      [robot.key, { msgtype: 'markdown', markdown: { content: '' } }, 44004],
      [robot.key, { msgtype: 'image', image: { base64: '', md5: md5(image) } }, 44004],
      [robot.key, say('长'.repeat(2000)), 45002],
      [robot.key, '{"msgtype": "text", "text": {', 47001],
      [robot.key, { ...say('hi'), extra: 1 }, 40058],
      [robot.key, { msgtype: 'text', text: { content: 'hi', color: 'red' } }, 40058],
      [robot.key, { msgtype: 'text' }, 40058],
      [robot.key, { msgtype: 'text', text: { content: 'hi', mentioned_list: ['dave'] } }, 40058],
      [robot.key, { msgtype: 'news', news: { articles: [] } }, 40058],
      [
        robot.key,
        {
          msgtype: 'news',
          news: {
            articles: Array.from({ length: 9 }, () => ({ title: 't', url: 'https://x.cn' })),
          },
        },
        40058,
      ],
      [robot.key, { msgtype: 'news', news: { articles: [{ title: 't', url: 'ftp://x' }] } }, 40058],
    ];
    for (const [key, body, errcode] of cases) {
      const response = await webhook(key, body);
      const label = JSON.stringify(body).slice(0, 100);
      expect([response.status, response.body.errcode, label]).toEqual([200, errcode, label]);
      expect(response.body.errmsg).toEqual(expect.any(String));
    }
    expect(await lastSeq()).toBe(before);
    const [uploads] = await messaging.app
      .get(DataSource)
      .query<{ n: number }[]>('SELECT count(*)::int AS n FROM media_uploads WHERE uploader = $1', [
        robot.sender,
      ]);
    expect(uploads.n).toBe(0);
  });

  it('uploads a file (webhook/upload_media) and posts it as msgtype file, which participants download', async () => {
    const robot = await addRobot(groupId, alice, '报表');
    const upload = (
      key: string,
      bytes: Buffer,
      type = 'file',
      filename = '日报.xlsx',
      field = 'media',
    ) =>
      messaging
        .http()
        .post(`/cgi-bin/webhook/upload_media?key=${key}&type=${type}`)
        .attach(field, bytes, { filename, contentType: 'application/vnd.ms-excel' });
    const report = randomBytes(4096);
    const uploaded = await upload(robot.key, report).expect(200);
    expect(uploaded.body).toMatchObject({ errcode: 0, errmsg: 'ok', type: 'file' });
    expect(Number(uploaded.body.created_at)).toBeGreaterThan(1_700_000_000);
    const mediaId = uploaded.body.media_id as string;
    const before = await lastSeq();
    const sent = await webhook(robot.key, { msgtype: 'file', file: { media_id: mediaId } });
    expect(sent.body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await lastSeq()).toBe(before + 1);
    const page = await as(carol)
      .get(`/v1/conversations/${groupId}/messages?afterSeq=${before}`)
      .expect(200);
    expect(page.body.items[0]).toMatchObject({
      sender: robot.sender,
      type: 'file',
      media: {
        mediaId,
        kind: 'file',
        filename: '日报.xlsx',
        size: report.length,
        sha256: createHash('sha256').update(report).digest('hex'),
      },
    });
    const download = await as(carol).get(`/v1/media/${mediaId}`).expect(200);
    expect(Buffer.from(await (await fetch(download.body.url)).arrayBuffer())).toEqual(report);
    await as(eve).get(`/v1/media/${mediaId}`).expect(404);

    // Bad uploads and sends: WeCom's errcodes, nothing stored or posted.
    const uploads = async () =>
      Number(
        (
          await messaging.app
            .get(DataSource)
            .query<{ n: string }[]>('SELECT count(*) AS n FROM media_uploads WHERE uploader = $1', [
              robot.sender,
            ])
        )[0].n,
      );
    const stored = await uploads();
    const other = await addRobot(groupId, alice, '另一个');
    const othersFile = (await upload(other.key, randomBytes(64)).expect(200)).body
      .media_id as string;
    const refusals: [Test, number][] = [
      [upload('not-a-key', report), 93000],
      [upload(robot.key, report, 'image'), 40004],
      [upload(robot.key, report, 'voice'), 40004],
      [upload(robot.key, Buffer.from('12345')), 40006],
      [upload(robot.key, report, 'file', 'x.bin', 'other'), 44001],
      [
        messaging
          .http()
          .post(`/cgi-bin/webhook/upload_media?key=${robot.key}&type=file`)
          .set('content-type', 'application/json')
          .send('{}'),
        47001,
      ],
      [webhook(robot.key, { msgtype: 'file', file: { media_id: othersFile } }), 40007],
      [
        webhook(robot.key, {
          msgtype: 'file',
          file: { media_id: '00000000-0000-4000-8000-000000000000' },
        }),
        40007,
      ],
      [webhook(robot.key, { msgtype: 'file', file: { media_id: 'not-a-media-id' } }), 40007],
      [webhook(robot.key, { msgtype: 'file', file: {} }), 41006],
      [webhook(robot.key, { msgtype: 'file' }), 41006],
      [webhook('not-a-key', { msgtype: 'file', file: { media_id: mediaId } }), 93000],
    ];
    for (const [i, [request, errcode]] of refusals.entries()) {
      const response = await request;
      expect([i, response.status, response.body.errcode]).toEqual([i, 200, errcode]);
    }
    expect(await uploads()).toBe(stored);
    expect(await lastSeq()).toBe(before + 1);
    // Another corp's member cannot use it either: the key is the robot's credential only.
    const foreign = await messaging
      .http()
      .post(`/v1/conversations/${groupId}/messages`)
      .set('authorization', `Bearer ${eve}`)
      .send({ clientMsgId: 'f1', type: 'file', mediaId });
    expect(foreign.status).toBe(404);
  });

  it('refuses, with 130101, what a robot sends beyond its limit in one minute', async () => {
    const db = messaging.app.get(DataSource);
    const window = async () =>
      (await db.query<{ w: string }[]>(`SELECT date_trunc('minute', now())::text AS w`))[0].w;
    // The limit counts per minute window: redo the sequence if a window boundary fell inside it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const robot = await addRobot(groupId, alice, `限流 ${attempt}`);
      const started = await window();
      const answers: number[] = [];
      for (let i = 0; i <= PER_MINUTE; i++)
        answers.push((await webhook(robot.key, say(`第 ${i + 1} 条`)).expect(200)).body.errcode);
      if ((await window()) !== started) continue;
      expect(answers).toEqual([...Array<number>(PER_MINUTE).fill(0), 130101]);
      const [posted] = await db.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM messages WHERE sender = $1',
        [robot.sender],
      );
      expect(posted.n).toBe(PER_MINUTE);
      return;
    }
    throw new Error('three minute windows in a row were cut by a boundary');
  });

  it('ends a group’s robots when the group is disbanded', async () => {
    const doomed = await group();
    const robot = await addRobot(doomed);
    expect((await webhook(robot.key, say('还在')).expect(200)).body.errcode).toBe(0);
    await as(alice).delete(`/v1/conversations/${doomed}`).expect(204);
    expect((await webhook(robot.key, say('解散后')).expect(200)).body.errcode).toBe(93000);
    const [left] = await messaging.app
      .get(DataSource)
      .query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM group_robots WHERE conversation_id = $1',
        [doomed],
      );
    expect(left.n).toBe(0);
  });
});
