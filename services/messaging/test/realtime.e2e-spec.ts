import type { AddressInfo } from 'node:net';
import { bearer } from '@qiwei/testing';
import type { TestApp } from '@qiwei/testing';
import { eventually } from '@qiwei/testing';
import WebSocket from 'ws';
import { bootMessaging, type MessagingTestApp, type TestCorp } from './messaging-test-app';

type Frame = Record<string, unknown> & { type: string };

/** A WebSocket client that keeps every frame it receives. */
class StreamClient {
  readonly frames: Frame[] = [];
  closed?: { code: number; reason: string };
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) =>
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame),
    );
    socket.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
    const socket = new WebSocket(url, { headers });
    const client = new StreamClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
    await client.next((f) => f.type === 'ready');
    return client;
  }

  /** The first frame (already received or still to come) that matches. */
  next(match: (frame: Frame) => boolean): Promise<Frame> {
    return eventually(() => {
      const found = this.frames.find(match);
      if (!found) throw new Error(`no such frame among ${JSON.stringify(this.frames)}`);
      return found;
    });
  }

  close(): void {
    this.socket.close();
  }
}

const listen = async (app: TestApp): Promise<string> => {
  await app.app.listen(0, '127.0.0.1');
  const { port } = app.app.getHttpServer().address() as AddressInfo;
  return `ws://127.0.0.1:${port}`;
};

describe('messaging: real-time delivery over WebSocket', () => {
  let messaging: MessagingTestApp;
  let corp: TestCorp;
  let alice: string;
  let bob: string;
  let carol: string;
  let first: string;
  let second: string;
  let secondInstance: TestApp;
  const clients: StreamClient[] = [];

  beforeAll(async () => {
    messaging = await bootMessaging();
    corp = await messaging.createCorp();
    [alice, bob, carol] = await Promise.all([
      corp.member('alice'),
      corp.member('bob'),
      corp.member('carol'),
    ]);
    secondInstance = await messaging.startInstance();
    first = await listen(messaging);
    second = await listen(secondInstance);
    // Ready once each instance's delivery consumer has joined its group.
    for (const app of [messaging, secondInstance])
      await eventually(
        async () => {
          const ready = await app.http().get('/health/ready');
          if (ready.status !== 200) throw new Error(JSON.stringify(ready.body));
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await messaging?.close();
  });

  const open = async (url: string, headers: Record<string, string> = {}) => {
    const client = await StreamClient.open(url, headers);
    clients.push(client);
    return client;
  };
  const as = (token: string) => bearer(messaging, token);

  it('pushes conversations, messages, reads and recalls to the members connected, on any instance', async () => {
    const bobStream = await open(`${first}/v1/stream?access_token=${bob}`);
    const carolStream = await open(`${second}/v1/stream`, { authorization: `Bearer ${carol}` });
    const aliceStream = await open(`${second}/v1/stream?access_token=${alice}`);
    const group = await as(alice)
      .post('/v1/conversations', { kind: 'group', name: '实时', members: ['bob', 'carol'] })
      .expect(201);
    const id = group.body.id as string;
    await bobStream.next(
      (f) => f.type === 'conversation' && f.event === 'created' && f.conversationId === id,
    );
    await as(alice)
      .post(`/v1/conversations/${id}/messages`, {
        clientMsgId: 'rt1',
        type: 'text',
        text: '大家好',
      })
      .expect(201);
    for (const stream of [bobStream, carolStream, aliceStream]) {
      const frame = await stream.next((f) => f.type === 'message' && f.conversationId === id);
      expect(frame.message).toMatchObject({
        seq: 1,
        sender: 'alice',
        text: '大家好',
        type: 'text',
      });
    }
    await as(bob).post(`/v1/conversations/${id}/read`, { seq: 1 }).expect(204);
    expect(await aliceStream.next((f) => f.type === 'read')).toMatchObject({
      conversationId: id,
      userid: 'bob',
      seq: 1,
    });
    await as(alice).post(`/v1/conversations/${id}/messages/1/recall`).expect(200);
    expect(await carolStream.next((f) => f.type === 'recall')).toMatchObject({
      conversationId: id,
      seq: 1,
      recalledBy: 'alice',
    });
  });

  it('pushes app messages to their connected recipients', async () => {
    const app = await corp.app({ departmentIds: [1], userids: [], tagIds: [] });
    // Messaging learns the root department from identity's events before it can expand it.
    await eventually(
      async () => {
        const sent = await messaging
          .http()
          .post('/v1/app-messages')
          .set('authorization', `Bearer ${app.token}`)
          .send({ all: true, msgtype: 'text', text: '系统维护通知' });
        if (sent.status !== 200) throw new Error(JSON.stringify(sent.body));
      },
      { timeoutMs: 20_000 },
    );
    const stream = await open(`${second}/v1/stream?access_token=${carol}`);
    const sent = await messaging
      .http()
      .post('/v1/app-messages')
      .set('authorization', `Bearer ${app.token}`)
      .send({ touser: ['carol'], msgtype: 'markdown', text: '**请查收**' })
      .expect(200);
    expect(
      await stream.next((f) => f.type === 'app_message' && f.msgid === sent.body.msgid),
    ).toMatchObject({
      agentid: app.agentid,
      msgtype: 'markdown',
      text: '**请查收**',
    });
  });

  it('refuses sockets without a valid member token, and answers bad frames with errors', async () => {
    await expect(StreamClient.open(`${first}/v1/stream`)).rejects.toThrow('HTTP 401');
    await expect(
      StreamClient.open(`${first}/v1/stream?access_token=forged.token.here`),
    ).rejects.toThrow('HTTP 401');
    await expect(StreamClient.open(`${first}/v1/elsewhere?access_token=${alice}`)).rejects.toThrow(
      'HTTP 404',
    );
    const stream = await open(`${first}/v1/stream?access_token=${alice}`);
    stream.socket.send('{not json');
    expect(await stream.next((f) => f.type === 'error')).toMatchObject({ code: 'FRAME_INVALID' });
    stream.socket.send(JSON.stringify({ type: 'send', text: 'hi' }));
    expect(await stream.next((f) => f.code === 'FRAME_UNKNOWN')).toMatchObject({ type: 'error' });
    stream.socket.send(JSON.stringify({ type: 'ping' }));
    await stream.next((f) => f.type === 'pong');
    stream.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await eventually(() => expect(stream.closed?.code).toBe(1003));
  });
});
