import * as net from 'node:net';
import { DevKafka } from '../src';
import { startTestBroker, tempDataDir } from './support/harness';

/** Raw frames over one socket: what no client library lets us control. */
class RawClient {
  private buffered = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, c]);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async nextFrame(): Promise<Buffer> {
    while (this.buffered.length < 4 || this.buffered.length < 4 + this.buffered.readInt32BE(0)) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const size = this.buffered.readInt32BE(0);
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    return frame;
  }

  close(): void {
    this.socket.destroy();
  }
}

function request(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer,
  flexible = false,
): Buffer {
  const clientId = Buffer.from('raw');
  const header = Buffer.alloc(10 + clientId.length + (flexible ? 1 : 0));
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const payload = Buffer.concat([header, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

describe('dev-kafka wire protocol', () => {
  let broker: DevKafka;
  let client: RawClient;
  beforeAll(async () => {
    broker = await startTestBroker({ dataDir: tempDataDir('wire') });
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client.close();
    await broker.stop();
  });

  it('answers flexible ApiVersions v3 with a v0 response header and compact arrays', async () => {
    // Body: compact strings "kcat", "1.7" and an empty tag section; header v2 adds its own tag byte.
    const body = Buffer.from([5, ...Buffer.from('kcat'), 4, ...Buffer.from('1.7'), 0]);
    client.write(request(18, 3, 7, body, true));
    const frame = await client.nextFrame();
    expect(frame.readInt32BE(0)).toBe(7);
    expect(frame.readInt16BE(4)).toBe(0); // no tag byte after the correlation id
    const count = frame[6] - 1;
    const keys = Array.from({ length: count }, (_, i) => frame.readInt16BE(7 + i * 7));
    expect(keys).toEqual(
      expect.arrayContaining([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 22]),
    );
    for (let i = 0; i < count; i++) expect(frame.readInt16BE(7 + i * 7 + 2)).toBe(0); // min version 0
  });

  it('answers unsupported versions and unknown keys with UNSUPPORTED_VERSION and keeps the connection', async () => {
    client.write(request(18, 9, 1, Buffer.alloc(0)));
    const apiVersions = await client.nextFrame();
    expect(apiVersions.readInt16BE(4)).toBe(35);
    expect(apiVersions.readInt32BE(6)).toBeGreaterThan(10); // the v0 key list, so the client can fall back
    client.write(request(0, 99, 2, Buffer.alloc(0)));
    expect((await client.nextFrame()).readInt16BE(4)).toBe(35);
    client.write(request(57, 0, 3, Buffer.alloc(0)));
    expect((await client.nextFrame()).readInt16BE(4)).toBe(35);
  });

  it('reassembles frames split across TCP writes and answers pipelined requests in order', async () => {
    // A Fetch parked for 300 ms, then an ApiVersions: the second answer must wait for the first.
    const fetchBody = Buffer.alloc(4 * 4 + 1 + 4 * 2 + 4 + 4 + 2);
    let o = 0;
    o = fetchBody.writeInt32BE(-1, o);
    o = fetchBody.writeInt32BE(300, o);
    o = fetchBody.writeInt32BE(1, o);
    o = fetchBody.writeInt32BE(1 << 20, o);
    o = fetchBody.writeInt8(0, o);
    o = fetchBody.writeInt32BE(0, o);
    o = fetchBody.writeInt32BE(-1, o);
    o = fetchBody.writeInt32BE(0, o); // no topics
    o = fetchBody.writeInt32BE(0, o); // no forgotten topics
    fetchBody.writeInt16BE(0, o); // rack id ""
    const bytes = Buffer.concat([
      request(1, 11, 100, fetchBody),
      request(18, 2, 101, Buffer.alloc(0)),
    ]);
    for (let i = 0; i < bytes.length; i += 5) client.write(bytes.subarray(i, i + 5));
    expect((await client.nextFrame()).readInt32BE(0)).toBe(100);
    expect((await client.nextFrame()).readInt32BE(0)).toBe(101);
  });
});
