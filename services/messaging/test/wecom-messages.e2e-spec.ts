import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { eventually } from '@qiwei/testing';
import type { Consumer } from 'kafkajs';
import type { Response, Test } from 'supertest';
import { DataSource } from 'typeorm';
import { Client } from 'minio';
import WebSocket from 'ws';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

const IMAGE_LIMIT = 64 * 1024;
const FILE_LIMIT = 128 * 1024;
const PER_MINUTE = 10;

const png = (size: number) =>
  Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    randomBytes(size - 12),
  ]);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface SeenEvent {
  type: string;
  key: string;
  data: Record<string, unknown>;
}

/**
 * WeCom's messaging API for apps: media/upload and media/get (temporary media shared with
 * identity), message/send over the app message use case (range, rate limits, duplicate check,
 * inbox rows, events) for every msgtype, message/recall — in WeCom's envelope, with WeCom's
 * errcodes for bad, unauthorised and cross-tenant input.
 */
describe('messaging: WeCom media and app messages (/cgi-bin)', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let other: TestCorp;
  let sales: number;
  let finance: number;
  let tag: number;
  let tokens: Record<string, string>;
  let app: { agentid: number; secret: string; token: string };
  let sibling: { agentid: number; secret: string; token: string };
  let stranger: { agentid: number; secret: string; token: string };
  let consumer: Consumer;
  const seen: SeenEvent[] = [];

  beforeAll(async () => {
    messaging = await bootMessaging({
      APP_MESSAGE_PER_MEMBER_PER_MINUTE: String(PER_MINUTE),
      WECOM_MEDIA_MAX_IMAGE_BYTES: String(IMAGE_LIMIT),
      WECOM_MEDIA_MAX_FILE_BYTES: String(FILE_LIMIT),
    });
    corp = await messaging.createCorp();
    other = await messaging.createCorp();
    const department = async (name: string) =>
      (
        (await corp.identity('POST', '/v1/departments', { name, parentId: 1 })).body as {
          id: number;
        }
      ).id;
    sales = await department('销售部');
    finance = await department('财务部');
    tokens = {
      alice: await corp.member('alice'),
      bob: await corp.member('bob', sales),
      carol: await corp.member('carol', sales),
      dave: await corp.member('dave', finance),
    };
    await other.member('erin');
    const created = await corp.identity('POST', '/v1/tags', { name: '值班' });
    tag = (created.body as { id: number }).id;
    await corp.identity('POST', `/v1/tags/${tag}/members`, { userids: ['carol'] });
    sibling = await corp.app(range(), '日程');
    stranger = await other.app({ departmentIds: [1], userids: [], tagIds: [] });
    await eventually(
      async () => {
        const [row] = await db().query<{ n: number }[]>(
          `SELECT (SELECT count(*) FROM directory_departments WHERE corp_id = $1)
                + (SELECT count(*) FROM directory_tags WHERE corp_id = $1 AND 'carol' = ANY(userids)) AS n`,
          [corp.corpId],
        );
        if (Number(row.n) < 4) throw new Error('directory not caught up');
      },
      { timeoutMs: 30_000 },
    );
    consumer = createKafka({ brokers: messaging.brokers, clientId: 'wecom-test' }).consumer({
      groupId: `wecom-test-${Date.now()}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: MESSAGING_MESSAGE_TOPIC.name, fromBeginning: true });
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
  // Each test sends as a fresh app: the per-member rate limits count per app.
  beforeEach(async () => {
    app = await corp.app(range());
    app.token = await corp.gettoken(app.secret);
  });

  /** The sales department, alice, and the tag (carol); the token from identity's gettoken. */
  const range = () => ({ departmentIds: [sales], userids: ['alice'], tagIds: [tag] });

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
  const upload = (
    type: string,
    bytes: Buffer,
    filename: string,
    token: string | null = app.token,
    field = 'media',
    contentType = 'application/octet-stream',
  ) =>
    messaging
      .http()
      .post(withToken(`/cgi-bin/media/upload?type=${type}`, token))
      .attach(field, bytes, { filename, contentType });
  /** Objects of the corp in the WeCom media bucket. */
  const stored = async (): Promise<number> => {
    const url = new URL(messaging.config.S3_ENDPOINT);
    const s3 = new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: messaging.config.S3_ACCESS_KEY,
      secretKey: messaging.config.S3_SECRET_KEY,
      region: messaging.config.S3_REGION,
      pathStyle: true,
    });
    const keys: string[] = [];
    for await (const object of s3.listObjectsV2(
      messaging.config.WECOM_MEDIA_BUCKET,
      `${corp.corpId}/`,
      true,
    ))
      keys.push((object as { name: string }).name);
    return keys.length;
  };
  const ok = async (request: Test): Promise<Record<string, unknown>> => {
    const response = await request;
    expect([response.status, response.body.errcode, response.body.errmsg]).toEqual([200, 0, 'ok']);
    return response.body as Record<string, unknown>;
  };
  const errcodeOf = async (request: Test): Promise<number> => {
    const response: Response = await request;
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body.errmsg).toEqual(expect.any(String));
    return response.body.errcode as number;
  };
  let n = 0;
  const text = (extra: object = {}) => ({
    agentid: app.agentid,
    msgtype: 'text',
    text: { content: `通知 ${++n}` },
    ...extra,
  });
  const inbox = async (token: string) =>
    (
      await messaging
        .http()
        .get('/v1/app-messages')
        .set('authorization', `Bearer ${token}`)
        .expect(200)
    ).body.items as Record<string, unknown>[];
  const count = async (sql: string, params: unknown[]) =>
    Number((await db().query<{ n: string }[]>(sql, params))[0].n);
  const event = (type: string, msgid: string) =>
    eventually(
      () => {
        const found = seen.find((e) => e.type === type && e.data.msgid === msgid);
        if (!found) throw new Error(`no ${type} for ${msgid} yet`);
        return found;
      },
      { timeoutMs: 20_000 },
    );

  it('documents the WeCom routes in OpenAPI, under the wecom tag with ?access_token=', async () => {
    const doc = (await messaging.http().get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { tags?: string[]; parameters?: { name: string; in: string }[] }>
      >;
    };
    const routes: [string, string][] = [
      ['/cgi-bin/media/upload', 'post'],
      ['/cgi-bin/media/get', 'get'],
      ['/cgi-bin/message/send', 'post'],
      ['/cgi-bin/message/recall', 'post'],
      ['/cgi-bin/appchat/create', 'post'],
      ['/cgi-bin/appchat/update', 'post'],
      ['/cgi-bin/appchat/get', 'get'],
      ['/cgi-bin/appchat/send', 'post'],
    ];
    for (const [path, method] of routes) {
      const operation = doc.paths[path]?.[method];
      expect([path, operation?.tags]).toEqual([path, ['wecom']]);
      expect(operation?.parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'access_token', in: 'query' })]),
      );
    }
  });

  describe('media/upload and media/get', () => {
    it('stores temporary media under a media_id and returns its bytes, to any app of the corp', async () => {
      const image = png(4096);
      const uploaded = await ok(upload('image', image, '工位.png'));
      expect(uploaded).toMatchObject({ type: 'image', media_id: expect.any(String) });
      const createdAt = Number(uploaded.created_at);
      expect(Math.abs(createdAt - Date.now() / 1000)).toBeLessThan(60);

      for (const token of [app.token, sibling.token]) {
        const fetched = await get(`/cgi-bin/media/get?media_id=${String(uploaded.media_id)}`, token)
          .buffer(true)
          .parse((res, done) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => done(null, Buffer.concat(chunks)));
          })
          .expect(200);
        expect(fetched.headers['content-type']).toBe('image/png');
        expect(fetched.headers['content-disposition']).toContain(
          `filename*=UTF-8''${encodeURIComponent('工位.png')}`,
        );
        expect(Buffer.compare(fetched.body as Buffer, image)).toBe(0);
      }
      const file = await ok(upload('file', Buffer.from('姓名,部门\n张三,销售\n'), '名单.csv'));
      expect(file.type).toBe('file');
    });

    it('answers bad uploads, bad tokens and other corps’ media ids with WeCom’s errcodes, storing nothing', async () => {
      const image = png(2048);
      const mine = await ok(upload('image', image, 'a.png'));
      const before = await stored();
      const cases: [Test, number][] = [
        [upload('sticker', image, 'a.png'), 40004],
        [
          messaging
            .http()
            .post(withToken('/cgi-bin/media/upload', app.token))
            .attach('media', image, 'a.png'),
          40004,
        ],
        [upload('image', image, 'a.gif'), 40005],
        [upload('voice', image, 'a.mp3'), 40005],
        [upload('image', png(IMAGE_LIMIT + 1), 'big.png'), 40009],
        [upload('file', randomBytes(FILE_LIMIT + 1), 'big.bin'), 40006],
        [upload('file', Buffer.from('tiny'), 'tiny.txt'), 40006],
        [upload('file', image, 'a.bin', app.token, 'file'), 44001],
        [post('/cgi-bin/media/upload?type=file', { media: 'x' }), 47001],
        [upload('image', image, 'a.png', null), 41001],
        [upload('image', image, 'a.png', 'not-a-token'), 40014],
        [upload('image', image, 'a.png', tokens.alice), 40014],
        [get('/cgi-bin/media/get'), 41006],
        [get('/cgi-bin/media/get?media_id=nope'), 40007],
        [get(`/cgi-bin/media/get?media_id=${randomBytes(32).toString('base64url')}`), 40007],
        [get(`/cgi-bin/media/get?media_id=${String(mine.media_id)}`, stranger.token), 40007],
        [get(`/cgi-bin/media/get?media_id=${String(mine.media_id)}`, null), 41001],
      ];
      for (const [request, errcode] of cases) expect(await errcodeOf(request)).toBe(errcode);
      expect(await stored()).toBe(before);
    });
  });

  describe('message/send', () => {
    it('reaches users, departments, tags and @all within the range, and lists the invalid ones WeCom’s way', async () => {
      const sent = await ok(
        post('/cgi-bin/message/send', {
          ...text(),
          touser: 'alice|bob|dave|ghost',
          toparty: `${finance}|99999`,
          totag: `${tag}|777`,
        }),
      );
      expect(sent).toMatchObject({
        invaliduser: 'dave|ghost',
        invalidparty: `${finance}|99999`,
        invalidtag: '777',
        unlicenseduser: '',
        overquotauser: '',
        msgid: expect.any(String),
      });
      const msgid = String(sent.msgid);
      const announced = await event('qiwei.messaging.message.app_sent.v1', msgid);
      expect(announced.key).toBe(`app/${app.agentid}`);
      expect((announced.data.recipients as string[]).sort()).toEqual(['alice', 'bob', 'carol']);
      expect((await inbox(tokens.carol))[0]).toMatchObject({ msgid, msgtype: 'text' });
      expect((await inbox(tokens.dave)).map((m) => m.msgid)).not.toContain(msgid);

      // A lone department id as a number (as some SDKs send), and @all ignoring the lists.
      const party = await ok(post('/cgi-bin/message/send', { ...text(), toparty: sales }));
      const toSales = await event('qiwei.messaging.message.app_sent.v1', String(party.msgid));
      expect((toSales.data.recipients as string[]).sort()).toEqual(['bob', 'carol']);
      const all = await ok(
        post('/cgi-bin/message/send', { ...text(), touser: '@all', toparty: `${finance}` }),
      );
      expect(all.invalidparty).toBe('');
      const everyone = await event('qiwei.messaging.message.app_sent.v1', String(all.msgid));
      expect((everyone.data.recipients as string[]).sort()).toEqual(['alice', 'bob', 'carol']);
    });

    it('sends every msgtype; media become message media with size and SHA-256 that recipients download', async () => {
      const image = png(8192);
      const voice = Buffer.concat([Buffer.from('#!AMR\n'), randomBytes(1000)]);
      const video = randomBytes(9000);
      const file = Buffer.from('季度报告\n'.repeat(200));
      const ids = {
        image: String((await ok(upload('image', image, '图.png'))).media_id),
        voice: String((await ok(upload('voice', voice, '语音.amr'))).media_id),
        video: String((await ok(upload('video', video, '视频.mp4'))).media_id),
        file: String(
          (await ok(upload('file', file, '报告.txt', app.token, 'media', 'text/plain'))).media_id,
        ),
      };
      const card = {
        title: '领奖通知',
        description: '<div class="gray">2025年3月2日</div>恭喜你抽中iPhone',
        url: 'https://example.com/prize',
      };
      const articles = [
        {
          title: '中秋节礼品领取',
          description: '今年中秋节公司有豪礼相送',
          url: 'https://example.com/a',
          picurl: 'https://example.com/a.png',
        },
        { title: '第二篇', url: 'https://example.com/b', appid: 'wx123', pagepath: 'pages/index' },
      ];
      const bodies: [string, object][] = [
        ['markdown', { markdown: { content: '## 日报\n> 完成 **3** 项' } }],
        ['image', { image: { media_id: ids.image } }],
        ['voice', { voice: { media_id: ids.voice } }],
        ['video', { video: { media_id: ids.video, title: '培训', description: '第一课' } }],
        ['file', { file: { media_id: ids.file }, safe: 1 }],
        ['textcard', { textcard: card }],
        ['news', { news: { articles } }],
      ];
      const msgids: string[] = [];
      for (const [msgtype, body] of bodies) {
        const sent = await ok(
          post('/cgi-bin/message/send', { agentid: app.agentid, touser: 'bob', msgtype, ...body }),
        );
        msgids.push(String(sent.msgid));
      }
      const received = await inbox(tokens.bob);
      const byId = (id: string) => received.find((m) => m.msgid === id) as Record<string, unknown>;
      expect(byId(msgids[0])).toMatchObject({
        msgtype: 'markdown',
        text: '## 日报\n> 完成 **3** 项',
      });
      const media = [
        [msgids[1], 'image', image, '图.png', 'image/png'],
        [msgids[2], 'voice', voice, '语音.amr', 'audio/amr'],
        [msgids[3], 'video', video, '视频.mp4', 'video/mp4'],
        [msgids[4], 'file', file, '报告.txt', 'text/plain'],
      ] as const;
      for (const [msgid, kind, bytes, filename, contentType] of media) {
        const m = byId(msgid);
        expect(m).toMatchObject({
          msgtype: kind,
          media: { kind, filename, contentType, size: bytes.length, sha256: sha256(bytes) },
        });
        const mediaId = (m.media as { mediaId: string }).mediaId;
        const download = await messaging
          .http()
          .get(`/v1/media/${mediaId}`)
          .set('authorization', `Bearer ${tokens.bob}`)
          .expect(200);
        expect(Buffer.from(await (await fetch(download.body.url)).arrayBuffer())).toEqual(bytes);
        // Not a recipient: not visible.
        await messaging
          .http()
          .get(`/v1/media/${mediaId}`)
          .set('authorization', `Bearer ${tokens.dave}`)
          .expect(404);
        const announced = await event('qiwei.messaging.message.app_sent.v1', msgid);
        expect(announced.data.content).toMatchObject({
          type: kind,
          media: {
            mediaId,
            kind,
            bucket: messaging.config.MEDIA_BUCKET,
            size: String(bytes.length),
            sha256: sha256(bytes),
          },
        });
      }
      expect(byId(msgids[3]).caption).toEqual({ title: '培训', description: '第一课' });
      expect(byId(msgids[4]).safe).toBe(true);
      expect(byId(msgids[5])).toMatchObject({
        msgtype: 'textcard',
        textcard: { ...card, btntxt: '详情' },
      });
      expect(byId(msgids[6]).articles).toEqual([
        articles[0],
        { title: '第二篇', description: '', url: 'https://example.com/b', picurl: '' },
      ]);
      expect(
        (await event('qiwei.messaging.message.app_sent.v1', msgids[5])).data.content,
      ).toMatchObject({
        type: 'textcard',
        textcard: { ...card, btntxt: '详情' },
      });

      // The same media_id again: the media the first send adopted, not another copy.
      const again = await ok(
        post('/cgi-bin/message/send', {
          agentid: app.agentid,
          touser: 'carol',
          msgtype: 'image',
          image: { media_id: ids.image },
        }),
      );
      const [adopted] = await db().query<{ n: string; ids: string[] }[]>(
        `SELECT count(*) AS n, array_agg(id::text) AS ids FROM media_uploads
          WHERE corp_id = $1 AND wecom_media_id = $2`,
        [corp.corpId, ids.image],
      );
      expect(Number(adopted.n)).toBe(1);
      const carols = (await inbox(tokens.carol)).find((m) => m.msgid === again.msgid) as {
        media: { mediaId: string };
      };
      expect(carols.media.mediaId).toBe(adopted.ids[0]);
    });

    it('sends template cards (text_notice, news_notice) whole: inbox and app_sent event', async () => {
      const textNotice = {
        card_type: 'text_notice',
        task_id: 'task-2025_01',
        source: { icon_url: 'https://example.com/i.png', desc: '审批中心', desc_color: 2 },
        main_title: { title: '报销待审批', desc: '张三提交了一笔报销' },
        emphasis_content: { title: '¥1,280', desc: '金额' },
        quote_area: {
          type: 1,
          url: 'https://example.com/q',
          title: '备注',
          quote_text: '出差北京的交通费',
        },
        sub_title_text: '请在三天内处理',
        horizontal_content_list: [
          { keyname: '申请人', value: '张三' },
          { keyname: '单据', value: '查看', type: 1, url: 'https://example.com/d' },
          { keyname: '审批人', value: '鲍勃', type: 3, userid: 'bob' },
        ],
        jump_list: [
          { type: 1, url: 'https://example.com/all', title: '全部待办' },
          { type: 2, appid: 'wx123', pagepath: 'pages/index', title: '小程序' },
        ],
        card_action: { type: 1, url: 'https://example.com/approve' },
      };
      const newsNotice = {
        card_type: 'news_notice',
        main_title: { title: '季度总结' },
        card_image: { url: 'https://example.com/c.png', aspect_ratio: 2.25 },
        image_text_area: {
          type: 1,
          url: 'https://example.com/n',
          title: '图文',
          desc: '摘要',
          image_url: 'https://example.com/t.png',
        },
        vertical_content_list: [{ title: '营收', desc: '同比增长 12%' }],
        card_action: { type: 2, appid: 'wx123', pagepath: 'pages/report' },
      };
      const msgids: string[] = [];
      for (const card of [textNotice, newsNotice])
        msgids.push(
          String(
            (
              await ok(
                post('/cgi-bin/message/send', {
                  agentid: app.agentid,
                  touser: 'bob',
                  msgtype: 'template_card',
                  template_card: card,
                }),
              )
            ).msgid,
          ),
        );
      const received = await inbox(tokens.bob);
      const byId = (id: string) => received.find((m) => m.msgid === id) as Record<string, unknown>;
      const link = (type: number, url = '', appid = '', pagepath = '') => ({
        type,
        url,
        appid,
        pagepath,
      });
      expect(byId(msgids[0])).toMatchObject({ msgtype: 'template_card', text: '' });
      expect(byId(msgids[0]).templateCard).toEqual({
        cardType: 'text_notice',
        taskId: 'task-2025_01',
        source: { iconUrl: 'https://example.com/i.png', desc: '审批中心', descColor: 2 },
        mainTitle: { title: '报销待审批', desc: '张三提交了一笔报销' },
        quoteArea: {
          action: link(1, 'https://example.com/q'),
          title: '备注',
          quoteText: '出差北京的交通费',
        },
        emphasisContent: { title: '¥1,280', desc: '金额' },
        subTitleText: '请在三天内处理',
        horizontalContentList: [
          { type: 0, keyname: '申请人', value: '张三', url: '', userid: '' },
          { type: 1, keyname: '单据', value: '查看', url: 'https://example.com/d', userid: '' },
          { type: 3, keyname: '审批人', value: '鲍勃', url: '', userid: 'bob' },
        ],
        jumpList: [
          { action: link(1, 'https://example.com/all'), title: '全部待办' },
          { action: link(2, '', 'wx123', 'pages/index'), title: '小程序' },
        ],
        cardAction: link(1, 'https://example.com/approve'),
        cardImage: null,
        imageTextArea: null,
        verticalContentList: [],
      });
      expect(byId(msgids[1]).templateCard).toMatchObject({
        cardType: 'news_notice',
        mainTitle: { title: '季度总结', desc: '' },
        emphasisContent: null,
        cardImage: { url: 'https://example.com/c.png', aspectRatio: 2.25 },
        imageTextArea: {
          action: link(1, 'https://example.com/n'),
          title: '图文',
          desc: '摘要',
          imageUrl: 'https://example.com/t.png',
        },
        verticalContentList: [{ title: '营收', desc: '同比增长 12%' }],
        cardAction: link(2, '', 'wx123', 'pages/report'),
      });
      // The archive gets the whole card from the event.
      const announced = await event('qiwei.messaging.message.app_sent.v1', msgids[0]);
      expect(announced.data).toMatchObject({
        recipients: ['bob'],
        content: {
          type: 'template_card',
          templateCard: {
            cardType: 'text_notice',
            taskId: 'task-2025_01',
            mainTitle: { title: '报销待审批', desc: '张三提交了一笔报销' },
            horizontalContentList: [
              { keyname: '申请人', value: '张三' },
              { type: 1, keyname: '单据', url: 'https://example.com/d' },
              { type: 3, keyname: '审批人', userid: 'bob' },
            ],
            cardAction: { type: 1, url: 'https://example.com/approve' },
          },
        },
      });
      // A recalled card keeps its place in the inbox without content.
      await ok(post('/cgi-bin/message/recall', { msgid: msgids[1] }));
      const recalled = (await inbox(tokens.bob)).find((m) => m.msgid === msgids[1]);
      expect(recalled).toMatchObject({ recalled: true, templateCard: null });
    });

    it('refuses template cards it does not support or that are malformed (40008, 40058), sending nothing', async () => {
      const sent = () =>
        count('SELECT count(*) AS n FROM app_messages WHERE corp_id = $1', [corp.corpId]);
      const before = await sent();
      const action = { type: 1, url: 'https://example.com' };
      const title = { title: '标题' };
      const card = (fields: object) => ({
        agentid: app.agentid,
        touser: 'bob',
        msgtype: 'template_card',
        template_card: {
          card_type: 'text_notice',
          main_title: title,
          card_action: action,
          ...fields,
        },
      });
      const cases: [object, number][] = [
        [card({ card_type: 'button_interaction' }), 40008],
        [card({ card_type: 'vote_interaction' }), 40008],
        [card({ card_type: 'multiple_interaction' }), 40008],
        [card({ card_type: 'nonsense' }), 40008],
        [card({ card_type: undefined }), 40008],
        [{ agentid: app.agentid, touser: 'bob', msgtype: 'template_card' }, 40058],
        [card({ main_title: undefined }), 40058],
        [card({ main_title: { desc: '只有描述' } }), 40058],
        [card({ card_action: undefined }), 40058],
        [card({ card_action: { type: 1 } }), 40058],
        [card({ card_action: { type: 2, url: 'https://example.com' } }), 40058],
        [card({ card_action: { type: 0 } }), 40058],
        [card({ card_action: { type: 1, url: 'javascript:alert(1)' } }), 40058],
        [
          card({ action_menu: { desc: '更多', action_list: [{ text: '不再提醒', key: 'x' }] } }),
          40058,
        ],
        [card({ horizontal_content_list: [{ keyname: '附件', type: 2, media_id: 'm' }] }), 40058],
        [card({ horizontal_content_list: [{ keyname: '链接', type: 1 }] }), 40058],
        [
          card({ horizontal_content_list: [{ keyname: '成员', type: 3, userid: 'bad user' }] }),
          40058,
        ],
        [card({ horizontal_content_list: Array(7).fill({ keyname: 'k', value: 'v' }) }), 40058],
        [card({ jump_list: Array(4).fill({ type: 1, url: 'https://x.cn', title: 't' }) }), 40058],
        [card({ jump_list: [{ type: 1, url: 'https://x.cn' }] }), 40058],
        [card({ card_image: { url: 'https://x.cn/i.png' } }), 40058],
        [card({ sub_title_text: '长'.repeat(683) + '长'.repeat(683) }), 40058],
        [card({ task_id: 'bad id!' }), 40058],
        [card({ source: { desc_color: 9 } }), 40058],
        [card({ unknown: 1 }), 40058],
        [
          card({
            card_type: 'news_notice',
            card_image: { url: 'https://x.cn/i.png', aspect_ratio: 3 },
          }),
          40058,
        ],
        [card({ card_type: 'news_notice' }), 40058],
        [
          card({
            card_type: 'news_notice',
            card_image: { url: 'https://x.cn/i.png' },
            emphasis_content: { title: '1' },
          }),
          40058,
        ],
        [
          card({
            card_type: 'news_notice',
            main_title: undefined,
            card_image: { url: 'https://x.cn/i.png' },
          }),
          40058,
        ],
        [
          card({
            card_type: 'news_notice',
            image_text_area: { title: '没有图' },
          }),
          40058,
        ],
      ];
      for (const [i, [body, errcode]] of cases.entries())
        expect([i, await errcodeOf(post('/cgi-bin/message/send', body))]).toEqual([i, errcode]);
      const refused = await post(
        '/cgi-bin/message/send',
        card({ card_type: 'button_interaction' }),
      );
      expect(refused.body.errmsg).toContain('card_type');
      // Another corp's app, and no token, are refused before the card is read.
      expect(await errcodeOf(post('/cgi-bin/message/send', card({}), stranger.token))).toBe(301002);
      expect(await errcodeOf(post('/cgi-bin/message/send', card({}), null))).toBe(41001);
      expect(await sent()).toBe(before);
    });

    it('does not send the same message twice within the duplicate-check interval', async () => {
      const body = {
        ...text(),
        touser: 'bob',
        enable_duplicate_check: 1,
        duplicate_check_interval: 600,
      };
      const first = await ok(post('/cgi-bin/message/send', body));
      const second = await ok(post('/cgi-bin/message/send', body));
      expect(second.msgid).toBe(first.msgid);
      const unchecked = await ok(
        post('/cgi-bin/message/send', { ...body, enable_duplicate_check: 0 }),
      );
      expect(unchecked.msgid).not.toBe(first.msgid);
    });

    it('refuses, by name, members over the per-member limit: in invaliduser and overquotauser, or 45009 when all are', async () => {
      const window = async () =>
        (await db().query<{ w: string }[]>(`SELECT date_trunc('minute', now())::text AS w`))[0].w;
      for (let attempt = 0; attempt < 3; attempt++) {
        const limited = await corp.app({ departmentIds: [sales], userids: ['alice'], tagIds: [] });
        const send = (touser: string) =>
          post(
            '/cgi-bin/message/send',
            { ...text(), agentid: limited.agentid, touser },
            limited.token,
          );
        const started = await window();
        for (let i = 0; i < PER_MINUTE; i++) await ok(send('bob'));
        const mixed = await send('bob|alice|ghost');
        const refused = await send('bob');
        if ((await window()) !== started) continue;
        expect(mixed.body).toMatchObject({
          errcode: 0,
          invaliduser: 'ghost|bob',
          overquotauser: 'bob',
        });
        expect(refused.body.errcode).toBe(45009);
        return;
      }
      throw new Error('three minute windows in a row were cut by a boundary');
    });

    it('answers bad, unauthorised and cross-tenant sends with WeCom’s errcodes and sends nothing', async () => {
      const image = String((await ok(upload('image', png(2048), 'x.png'))).media_id);
      const file = String((await ok(upload('file', Buffer.from('abcdefgh'), 'x.txt'))).media_id);
      const theirs = String(
        (await ok(upload('image', png(2048), 'y.png', stranger.token))).media_id,
      );
      const sent = () =>
        count('SELECT count(*) AS n FROM app_messages WHERE corp_id = $1', [corp.corpId]);
      const before = await sent();
      const to = { agentid: app.agentid, touser: 'bob' };
      const cases: [object | string, number, (string | null)?][] = [
        [{ ...text(), touser: 'bob', agentid: sibling.agentid }, 301002],
        [{ ...text(), touser: 'bob', agentid: 999999 }, 301002],
        [{ msgtype: 'text', text: { content: 'x' }, touser: 'bob' }, 41011],
        [{ ...text(), touser: 'bob', agentid: 'abc' }, 40056],
        [{ ...to, msgtype: 'template_card', template_card: {} }, 40008],
        [{ ...to, text: { content: 'no msgtype' } }, 40008],
        [{ ...to, msgtype: 'text' }, 44004],
        [{ ...to, msgtype: 'text', text: {} }, 44004],
        [{ ...to, msgtype: 'text', text: { content: '  ' } }, 44004],
        [{ ...to, msgtype: 'markdown', markdown: { content: '' } }, 44004],
        [{ ...to, msgtype: 'text', text: { content: '长'.repeat(683) } }, 45002],
        [{ ...to, msgtype: 'image' }, 41006],
        [{ ...to, msgtype: 'image', image: {} }, 41006],
        [{ ...to, msgtype: 'image', image: { media_id: 'nope' } }, 40007],
        [{ ...to, msgtype: 'image', image: { media_id: theirs } }, 40007],
        [{ ...to, msgtype: 'image', image: { media_id: file } }, 40007],
        [{ ...to, msgtype: 'voice', voice: { media_id: image } }, 40007],
        [{ ...to, msgtype: 'textcard', textcard: { title: 't', url: 'https://x.cn' } }, 41033],
        [
          { ...to, msgtype: 'textcard', textcard: { description: 'd', url: 'https://x.cn' } },
          41016,
        ],
        [{ ...to, msgtype: 'textcard', textcard: { title: 't', description: 'd' } }, 41010],
        [
          {
            ...to,
            msgtype: 'textcard',
            textcard: { title: 't', description: 'd', url: 'javascript:x' },
          },
          40058,
        ],
        [{ ...to, msgtype: 'news', news: { articles: [] } }, 45008],
        [
          {
            ...to,
            msgtype: 'news',
            news: {
              articles: Array.from({ length: 9 }, () => ({ title: 't', url: 'https://x.cn' })),
            },
          },
          45008,
        ],
        [{ ...text(), agentid: app.agentid }, 40058],
        [{ ...text(), agentid: app.agentid, touser: '' }, 40058],
        [{ ...text(), agentid: app.agentid, touser: 'dave|ghost' }, 81013],
        [{ ...text(), agentid: app.agentid, toparty: `${finance}` }, 81013],
        [{ ...text(), agentid: app.agentid, touser: 'bad user' }, 40031],
        [
          {
            ...text(),
            agentid: app.agentid,
            touser: Array.from({ length: 1001 }, (_, i) => `u${i}`).join('|'),
          },
          40032,
        ],
        [
          {
            ...text(),
            agentid: app.agentid,
            toparty: Array.from({ length: 101 }, (_, i) => i + 1).join('|'),
          },
          82002,
        ],
        [
          {
            ...text(),
            agentid: app.agentid,
            totag: Array.from({ length: 101 }, (_, i) => i + 1).join('|'),
          },
          82003,
        ],
        [{ ...text(), agentid: app.agentid, toparty: 'x|y' }, 40066],
        [{ ...text(), agentid: app.agentid, toparty: '99999999999' }, 40066],
        [{ ...text(), agentid: app.agentid, toparty: '3000000000' }, 40066],
        [{ ...text(), agentid: app.agentid, totag: '0' }, 40068],
        [{ ...text(), touser: 'bob', duplicate_check_interval: 99999 }, 40058],
        [{ ...text(), touser: 'bob', enable_duplicate_check: 2 }, 40058],
        [{ ...text(), touser: 'bob', extra: 1 }, 40058],
        ['{"agentid": 1, "msgtype": "text", "text": {', 47001],
        [JSON.stringify({ ...text(), touser: 'bob', pad: 'x'.repeat(1_100_000) }), 40058],
        [{ ...text(), touser: 'bob' }, 41001, null],
        [{ ...text(), touser: 'bob' }, 40014, 'garbage'],
        [{ ...text(), touser: 'bob' }, 40014, tokens.alice],
        [{ ...text(), touser: 'bob', agentid: stranger.agentid }, 81013, stranger.token],
      ];
      for (const [body, errcode, token] of cases) {
        const label = (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 80);
        const got = await errcodeOf(
          post('/cgi-bin/message/send', body, token === undefined ? app.token : token),
        );
        expect([label, got]).toEqual([label, errcode]);
      }
      expect(await sent()).toBe(before);
      const refused = await post('/cgi-bin/message/send', {
        ...text(),
        touser: 'bob',
        agentid: sibling.agentid,
      });
      expect(refused.body.errmsg).toContain('AGENTID_MISMATCH');
    });
  });

  describe('message/recall', () => {
    it('recalls the app’s message: inbox rows marked, event and frame to the recipients, once', async () => {
      await messaging.app.listen(0, '127.0.0.1');
      const { port } = messaging.app.getHttpServer().address() as AddressInfo;
      const frames: { type: string; msgid?: string }[] = [];
      const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, {
        headers: { authorization: `Bearer ${tokens.bob}` },
      });
      socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
      try {
        await eventually(() => expect(frames.some((f) => f.type === 'ready')).toBe(true));
        const sent = await ok(post('/cgi-bin/message/send', { ...text(), touser: 'bob|carol' }));
        const msgid = String(sent.msgid);
        await eventually(() =>
          expect(frames.some((f) => f.type === 'app_message' && f.msgid === msgid)).toBe(true),
        );
        await ok(post('/cgi-bin/message/recall', { msgid }));
        const recalled = (await inbox(tokens.bob)).find((m) => m.msgid === msgid);
        expect(recalled).toMatchObject({ recalled: true, text: '', media: null });
        expect(
          await count(
            'SELECT count(*) AS n FROM app_message_recipients WHERE corp_id = $1 AND message_id = $2 AND recalled_at IS NOT NULL',
            [corp.corpId, msgid],
          ),
        ).toBe(2);
        const announced = await event('qiwei.messaging.message.app_recalled.v1', msgid);
        expect(announced.data).toMatchObject({
          agentid: app.agentid,
          recipients: ['bob', 'carol'],
          recalledBy: `app:${app.agentid}`,
        });
        await eventually(() =>
          expect(frames.find((f) => f.type === 'app_message_recall' && f.msgid === msgid)).toEqual({
            type: 'app_message_recall',
            msgid,
            agentid: app.agentid,
          }),
        );
        const twice = await post('/cgi-bin/message/recall', { msgid });
        expect([twice.body.errcode, twice.body.errmsg]).toEqual([
          40058,
          expect.stringContaining('APP_MESSAGE_ALREADY_RECALLED'),
        ]);
        // A recalled message is no duplicate: the same text goes out again.
        const body = { ...text(), touser: 'bob', enable_duplicate_check: 1 };
        const first = await ok(post('/cgi-bin/message/send', body));
        await ok(post('/cgi-bin/message/recall', { msgid: first.msgid }));
        expect((await ok(post('/cgi-bin/message/send', body))).msgid).not.toBe(first.msgid);
      } finally {
        socket.close();
      }
    });

    it('refuses another app’s or corp’s msgid, unknown ones and recalls after the window, changing nothing', async () => {
      const sent = await ok(post('/cgi-bin/message/send', { ...text(), touser: 'bob' }));
      const old = await ok(post('/cgi-bin/message/send', { ...text(), touser: 'bob' }));
      await db().query(
        `UPDATE app_messages SET sent_at = sent_at - interval '25 hours' WHERE corp_id = $1 AND id = $2`,
        [corp.corpId, old.msgid],
      );
      const cases: [object | string, number, string][] = [
        [{ msgid: sent.msgid }, 301002, sibling.token],
        [{ msgid: sent.msgid }, 40058, stranger.token],
        [{ msgid: 'not-a-msgid' }, 40058, app.token],
        [{ msgid: '00000000-0000-4000-8000-000000000000' }, 40058, app.token],
        [{ msgid: old.msgid }, 40058, app.token],
        [{}, 40058, app.token],
        [{ msgid: 42 }, 40058, app.token],
        ['{"msgid":', 47001, app.token],
        [{ msgid: sent.msgid }, 40014, tokens.bob],
      ];
      for (const [body, errcode, token] of cases)
        expect([
          JSON.stringify(body),
          await errcodeOf(post('/cgi-bin/message/recall', body, token)),
        ]).toEqual([JSON.stringify(body), errcode]);
      const expired = await post('/cgi-bin/message/recall', { msgid: old.msgid });
      expect(expired.body.errmsg).toContain('APP_MESSAGE_RECALL_EXPIRED');
      expect(
        await count(
          'SELECT count(*) AS n FROM app_messages WHERE corp_id = $1 AND recalled_at IS NOT NULL AND id = ANY($2::uuid[])',
          [corp.corpId, [sent.msgid, old.msgid]],
        ),
      ).toBe(0);
      // The /v1 twin answers the same way for the app that sent it.
      await messaging
        .http()
        .post(`/v1/app-messages/${String(sent.msgid)}/recall`)
        .set('authorization', `Bearer ${app.token}`)
        .expect(204);
    });
  });
});
