import { createHash, randomBytes } from 'node:crypto';
import { MESSAGING_MESSAGE_TOPIC } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { bearer, eventually } from '@qiwei/testing';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const PART = 5 * 1024 * 1024;

/** Media messages: presigned uploads to S3 (s3rver), checked on completion, then sent and fetched. */
describe('messaging: media', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;
  let conversation: string;

  beforeAll(async () => {
    messaging = await bootMessaging({
      MEDIA_MAX_IMAGE_BYTES: '1024',
      MEDIA_PART_BYTES: String(PART),
    });
    corp = await messaging.createCorp();
    [alice, bob, carol] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
    conversation = (
      await as(alice).post('/v1/conversations', { kind: 'single', peer: 'bob' }).expect(201)
    ).body.id;
  }, 120_000);
  afterAll(() => messaging?.close());

  const as = (token: string) => bearer(messaging, token);
  const request = (token: string, body: Buffer, extra: object = {}) =>
    as(token).post('/v1/media/uploads', {
      kind: 'file',
      filename: '季度报告.pdf',
      contentType: 'application/pdf',
      size: body.length,
      sha256: sha256(body),
      ...extra,
    });

  it('uploads a file, sends it, and lets the other participant download it; the event carries key, size and SHA-256', async () => {
    const body = Buffer.from('%PDF-1.7 季度报告 quarterly report', 'utf8');
    const asked = await request(alice, body).expect(201);
    expect(asked.body).toMatchObject({ status: 'pending', upload: { method: 'PUT' } });
    expect((await fetch(asked.body.upload.url, { method: 'PUT', body })).status).toBe(200);
    const done = await as(alice)
      .post(`/v1/media/uploads/${asked.body.mediaId}/complete`)
      .expect(200);
    expect(done.body).toMatchObject({ status: 'ready', size: body.length, sha256: sha256(body) });
    const sent = await as(alice)
      .post(`/v1/conversations/${conversation}/messages`, {
        clientMsgId: 'f1',
        type: 'file',
        mediaId: asked.body.mediaId,
      })
      .expect(201);
    expect(sent.body.media).toMatchObject({
      mediaId: asked.body.mediaId,
      filename: '季度报告.pdf',
    });
    const download = await as(bob).get(`/v1/media/${asked.body.mediaId}`).expect(200);
    expect(Buffer.from(await (await fetch(download.body.url)).arrayBuffer())).toEqual(body);
    await as(carol).get(`/v1/media/${asked.body.mediaId}`).expect(404);

    const consumer = createKafka({ brokers: messaging.brokers, clientId: 'media-test' }).consumer({
      groupId: `media-test-${Date.now()}`,
    });
    const seen: Record<string, unknown>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: MESSAGING_MESSAGE_TOPIC.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (String(message.key) === conversation) seen.push(JSON.parse(String(message.value)));
      },
    });
    try {
      await eventually(() => expect(seen.length).toBeGreaterThan(0), { timeoutMs: 20_000 });
    } finally {
      await consumer.disconnect();
    }
    expect((seen[0].message as { content: unknown }).content).toMatchObject({
      type: 'file',
      media: {
        mediaId: asked.body.mediaId,
        kind: 'file',
        bucket: 'qiwei-messaging-media',
        objectKey: `${corp.corpId}/${asked.body.mediaId}`,
        size: String(body.length),
        sha256: sha256(body),
      },
    });
  });

  it('takes large files in parts', async () => {
    const body = randomBytes(PART * 2 + 777);
    const asked = await request(alice, body, {
      kind: 'video',
      contentType: 'video/mp4',
      filename: 'demo.mp4',
    }).expect(201);
    expect(asked.body.upload).toMatchObject({ method: 'MULTIPART', partSize: PART });
    const parts = [];
    for (const part of asked.body.upload.parts as { partNumber: number; url: string }[]) {
      const chunk = body.subarray((part.partNumber - 1) * PART, part.partNumber * PART);
      const res = await fetch(part.url, { method: 'PUT', body: chunk });
      parts.push({ partNumber: part.partNumber, etag: String(res.headers.get('etag')) });
    }
    const missing = await as(alice)
      .post(`/v1/media/uploads/${asked.body.mediaId}/complete`, { parts: parts.slice(1) })
      .expect(422);
    expect(missing.body.code).toBe('MEDIA_NOT_UPLOADED');
    await as(alice).post(`/v1/media/uploads/${asked.body.mediaId}/complete`, { parts }).expect(200);
    await as(alice)
      .post(`/v1/conversations/${conversation}/messages`, {
        clientMsgId: 'v1',
        type: 'video',
        mediaId: asked.body.mediaId,
      })
      .expect(201);
  });

  it('refuses bad uploads and sends of media that is not ready, not yours or of another kind', async () => {
    const body = Buffer.from('not what was declared');
    const tooBig = await request(alice, Buffer.alloc(2048), {
      kind: 'image',
      contentType: 'image/png',
    }).expect(413);
    expect(tooBig.body.code).toBe('MEDIA_TOO_LARGE');
    const wrongType = await request(alice, body, {
      kind: 'image',
      contentType: 'application/x-msdownload',
    }).expect(415);
    expect(wrongType.body.code).toBe('MEDIA_TYPE_NOT_ALLOWED');
    for (const bad of [
      { sha256: 'abc' },
      { size: 0 },
      { filename: '../etc/passwd' },
      { kind: 'exe' },
      { extra: 1 },
    ]) {
      await request(alice, body, bad).expect(400);
    }
    // Declared one checksum, uploaded other bytes.
    const asked = await request(alice, body, {
      sha256: sha256(Buffer.from('something else')),
    }).expect(201);
    const early = await as(alice)
      .post(`/v1/media/uploads/${asked.body.mediaId}/complete`)
      .expect(422);
    expect(early.body.code).toBe('MEDIA_NOT_UPLOADED');
    await fetch(asked.body.upload.url, { method: 'PUT', body });
    const mismatch = await as(alice)
      .post(`/v1/media/uploads/${asked.body.mediaId}/complete`)
      .expect(422);
    expect(mismatch.body.code).toBe('MEDIA_CHECKSUM_MISMATCH');
    const cases: [string, object, number, string][] = [
      [alice, { type: 'file', mediaId: asked.body.mediaId }, 422, 'MEDIA_NOT_READY'],
      [bob, { type: 'file', mediaId: asked.body.mediaId }, 404, 'MEDIA_NOT_FOUND'],
      [alice, { type: 'file' }, 400, 'VALIDATION_FAILED'],
      [
        alice,
        { type: 'file', mediaId: asked.body.mediaId, text: 'caption' },
        400,
        'VALIDATION_FAILED',
      ],
      [alice, { type: 'text', text: 'hi', mediaId: asked.body.mediaId }, 400, 'VALIDATION_FAILED'],
    ];
    let n = 0;
    for (const [token, message, status, code] of cases) {
      const response = await as(token).post(`/v1/conversations/${conversation}/messages`, {
        clientMsgId: `bad${n++}`,
        ...message,
      });
      expect([response.status, response.body.code]).toEqual([status, code]);
    }
    // A ready file sent as an image is refused too.
    const good = Buffer.from('real bytes');
    const ready = await request(alice, good).expect(201);
    await fetch(ready.body.upload.url, { method: 'PUT', body: good });
    await as(alice).post(`/v1/media/uploads/${ready.body.mediaId}/complete`).expect(200);
    const asImage = await as(alice).post(`/v1/conversations/${conversation}/messages`, {
      clientMsgId: 'img',
      type: 'image',
      mediaId: ready.body.mediaId,
    });
    expect([asImage.status, asImage.body.code]).toEqual([422, 'MEDIA_NOT_READY']);
    await as(alice).get('/v1/media/not-a-uuid').expect(400);
    await messaging.http().post('/v1/media/uploads').send({}).expect(401);
  });
});
