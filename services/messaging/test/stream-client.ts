import type { AddressInfo } from 'node:net';
import { eventually, type TestApp } from '@qiwei/testing';
import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { type: string };

/** A WebSocket client of `/v1/stream` that keeps every frame it receives. */
export class StreamClient {
  readonly frames: Frame[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) =>
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame),
    );
  }

  static async open(baseUrl: string, token: string): Promise<StreamClient> {
    const socket = new WebSocket(`${baseUrl}/v1/stream?access_token=${token}`);
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

/** Listens on a free port; the WebSocket base URL. Ready once the delivery consumer joined. */
export async function listen(app: TestApp): Promise<string> {
  await app.app.listen(0, '127.0.0.1');
  const { port } = app.app.getHttpServer().address() as AddressInfo;
  await eventually(
    async () => {
      const ready = await app.http().get('/health/ready');
      if (ready.status !== 200) throw new Error(JSON.stringify(ready.body));
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return `ws://127.0.0.1:${port}`;
}
