import type { AddressInfo } from 'node:net';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { bearer, eventually } from '@qiwei/testing';
import WebSocket from 'ws';
import {
  bootMessaging,
  eventsOf,
  type MessagingTestApp,
  type TestCorp,
} from './messaging-test-app';

describe('messaging: location, link and contact card messages', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let groupId: string;

  beforeAll(async () => {
    messaging = await bootMessaging();
    corp = await messaging.createCorp();
    [alice, bob] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
    const g = await as(alice)
      .post('/v1/conversations', { kind: 'group', name: '外勤组', members: ['bob'] })
      .expect(201);
    groupId = g.body.id as string;
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  let counter = 0;
  const send = (token: string, body: object, clientMsgId = `c${++counter}`) =>
    as(token).post(`/v1/conversations/${groupId}/messages`, { clientMsgId, ...body });

  const place = {
    latitude: 31.2354,
    longitude: 121.5055,
    name: '上海中心大厦',
    address: '上海市浦东新区陆家嘴银城中路501号',
  };
  const link = {
    title: '季度销售报告',
    description: '2025 年第一季度',
    url: 'https://intranet.example.com/reports/q1?lang=zh',
    picUrl: 'http://img.example.com/q1.png',
  };

  it('sends a location, a link and a contact card, and their events carry them whole', async () => {
    const located = await send(bob, { type: 'location', location: place }).expect(201);
    expect(located.body).toMatchObject({ type: 'location', text: '', location: place, link: null });
    const linked = await send(alice, { type: 'link', link }).expect(201);
    expect(linked.body).toMatchObject({ type: 'link', link });
    const minimal = await send(alice, {
      type: 'link',
      link: { title: '内网', url: 'http://wiki/home' },
    }).expect(201);
    expect(minimal.body.link).toEqual({
      title: '内网',
      description: '',
      url: 'http://wiki/home',
      picUrl: '',
    });
    const card = await send(bob, { type: 'contact_card', contactCard: { userid: 'carol' } }).expect(
      201,
    );
    expect(card.body).toMatchObject({
      type: 'contact_card',
      contactCard: { userid: 'carol', name: 'carol' },
    });
    // A reply quoting the location.
    const reply = await send(alice, {
      type: 'text',
      text: '收到，马上到',
      quoteSeq: located.body.seq,
    }).expect(201);
    expect(reply.body.quoteSeq).toBe(located.body.seq);

    const page = await as(alice).get(`/v1/conversations/${groupId}/messages`).expect(200);
    expect(page.body.items.map((m: { type: string }) => m.type)).toEqual([
      'location',
      'link',
      'link',
      'contact_card',
      'text',
    ]);
    const events = await eventsOf(messaging.brokers, MESSAGING_MESSAGE_TOPIC.name, groupId, 5);
    const contents = events.map((e) => (e.data.message as { content: unknown }).content);
    expect(contents[0]).toMatchObject({ type: 'location', location: place });
    expect(contents[1]).toMatchObject({ type: 'link', link });
    expect(contents[3]).toMatchObject({
      type: 'contact_card',
      contactCard: { userid: 'carol', name: 'carol' },
    });
    expect(contents[4]).toMatchObject({ type: 'text', quoteSeq: String(located.body.seq) });
  });

  it('is idempotent on the client message id, whatever order the fields came in', async () => {
    const first = await send(alice, { type: 'location', location: place }, 'same-place').expect(
      201,
    );
    const reordered = {
      address: place.address,
      name: place.name,
      longitude: place.longitude,
      latitude: place.latitude,
    };
    const again = await send(alice, { type: 'location', location: reordered }, 'same-place').expect(
      200,
    );
    expect(again.body).toEqual(first.body);
    const changed = await send(
      alice,
      { type: 'location', location: { ...place, name: '东方明珠' } },
      'same-place',
    ).expect(409);
    expect(changed.body.code).toBe('CLIENT_MSG_ID_REUSED');
    const sameCard = await send(
      bob,
      { type: 'contact_card', contactCard: { userid: 'alice' } },
      'card-1',
    );
    const cardAgain = await send(
      bob,
      { type: 'contact_card', contactCard: { userid: 'alice' } },
      'card-1',
    ).expect(200);
    expect(cardAgain.body.seq).toBe(sameCard.body.seq);
  });

  it('refuses malformed content and changes nothing', async () => {
    const before = (await as(alice).get(`/v1/conversations/${groupId}`).expect(200)).body
      .lastSeq as number;
    const cases: [object, number, string][] = [
      [{ type: 'location' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: { ...place, latitude: 90.5 } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: { ...place, longitude: -181 } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: { ...place, latitude: '31.2' } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: { ...place, name: '  ' } }, 400, 'VALIDATION_FAILED'],
      [
        { type: 'location', location: { ...place, name: '名'.repeat(129) } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'location', location: { ...place, altitude: 10 } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: [place] }, 400, 'VALIDATION_FAILED'],
      [{ type: 'location', location: place, text: '我在这' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'text', text: 'hi', location: place }, 400, 'VALIDATION_FAILED'],
      [
        { type: 'link', link: { ...link, url: 'ftp://files.example.com/a' } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'link', link: { ...link, url: 'javascript:alert(1)' } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'link', link: { ...link, url: 'example.com/no-scheme' } }, 400, 'VALIDATION_FAILED'],
      [
        { type: 'link', link: { ...link, picUrl: 'data:image/png;base64,AAAA' } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'link', link: { ...link, title: '' } }, 400, 'VALIDATION_FAILED'],
      [
        { type: 'link', link: { ...link, url: `https://example.com/${'a'.repeat(2048)}` } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ type: 'link', link: { ...link, description: 'd'.repeat(513) } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'link', link, contactCard: { userid: 'carol' } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'contact_card' }, 400, 'VALIDATION_FAILED'],
      [{ type: 'contact_card', contactCard: { userid: 'not valid!' } }, 400, 'VALIDATION_FAILED'],
      [{ type: 'contact_card', contactCard: { userid: 'ghost' } }, 422, 'CONTACT_CARD_INVALID'],
      [{ type: 'text', text: 'hi', quoteSeq: 10_000 }, 422, 'QUOTE_INVALID'],
      [{ type: 'sticker', text: 'hi' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const response = await send(alice, body);
      expect([response.status, response.body.code, body]).toEqual([status, code, body]);
    }
    // A member of another corp is not a card of this one.
    const other = await messaging.createCorp();
    await other.member('zoe');
    const foreign = await send(alice, { type: 'contact_card', contactCard: { userid: 'zoe' } });
    expect([foreign.status, foreign.body.code]).toEqual([422, 'CONTACT_CARD_INVALID']);
    const after = (await as(alice).get(`/v1/conversations/${groupId}`).expect(200)).body.lastSeq;
    expect(after).toBe(before);
  });

  it('pushes them over the WebSocket to connected participants', async () => {
    await messaging.app.listen(0, '127.0.0.1');
    const { port } = messaging.app.getHttpServer().address() as AddressInfo;
    await eventually(() => messaging.http().get('/health/ready').expect(200), {
      timeoutMs: 30_000,
    });
    const frames: { type: string; message?: Record<string, unknown> }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?access_token=${alice}`);
    socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
    try {
      await eventually(() => expect(frames.map((f) => f.type)).toContain('ready'));
      const sent = await send(bob, { type: 'location', location: place }).expect(201);
      const card = await send(bob, { type: 'contact_card', contactCard: { userid: 'alice' } });
      const frameOf = (seq: number) =>
        eventually(() => {
          const frame = frames.find((f) => f.type === 'message' && f.message?.seq === seq);
          if (!frame) throw new Error(`no frame for ${seq} among ${JSON.stringify(frames)}`);
          return frame.message;
        });
      expect(await frameOf(sent.body.seq)).toMatchObject({
        type: 'location',
        location: place,
        link: null,
        contactCard: null,
      });
      expect(await frameOf(card.body.seq)).toMatchObject({
        type: 'contact_card',
        contactCard: { userid: 'alice', name: 'alice' },
      });
    } finally {
      socket.close();
    }
  });

  it('hides a recalled location, link or card like any content', async () => {
    const sent = await send(bob, { type: 'link', link }).expect(201);
    await as(bob).post(`/v1/conversations/${groupId}/messages/${sent.body.seq}/recall`).expect(200);
    const page = await as(alice)
      .get(`/v1/conversations/${groupId}/messages?afterSeq=${sent.body.seq - 1}`)
      .expect(200);
    expect(page.body.items[0]).toMatchObject({
      seq: sent.body.seq,
      recalled: true,
      type: 'link',
      link: null,
      location: null,
      contactCard: null,
    });
  });
});
