import * as net from 'node:net';
import { DevKafkaLogger } from '../logger';

/** Returns the response frame, or null when nothing is sent (acks=0). May be asynchronous (held Fetch/JoinGroup). */
export type FrameHandler = (
  frame: Buffer,
  clientHost: string,
) => Buffer | null | Promise<Buffer | null>;

const MAX_FRAME_BYTES = 100 * 1024 * 1024;

/**
 * One client socket. Frames are reassembled across TCP reads. Every request starts being handled
 * as soon as it is complete (so appends happen in arrival order and a held Fetch does not stall
 * a Produce behind it), but responses are written strictly in request order, as Kafka requires.
 */
export class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private responses: Promise<void> = Promise.resolve();
  private readonly clientHost: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly handler: FrameHandler,
    private readonly logger: DevKafkaLogger,
  ) {
    this.clientHost = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > MAX_FRAME_BYTES) {
        this.logger.warn(`dev-kafka: closing ${this.clientHost}: invalid frame size ${size}`);
        this.socket.destroy();
        return;
      }
      if (this.buffered < 4 + size) return;
      const frame = this.take(4 + size).subarray(4);
      this.dispatch(frame);
    }
  }

  private peekSize(): number {
    if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].readInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }

  private dispatch(frame: Buffer): void {
    let result: Promise<Buffer | null>;
    try {
      result = Promise.resolve(this.handler(frame, this.clientHost));
    } catch (err) {
      result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.responses = this.responses.then(() =>
      result.then(
        (response) => {
          if (response && !this.socket.destroyed) this.socket.write(response);
        },
        (err: unknown) => {
          // A request we cannot decode leaves the stream in an unknown state: Kafka closes it too.
          this.logger.warn(
            `dev-kafka: closing ${this.clientHost}: ${err instanceof Error ? err.message : String(err)}`,
          );
          this.socket.destroy();
        },
      ),
    );
  }
}
