import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** One member's open socket on this instance. */
export interface Connection {
  corpId: string;
  userid: string;
  socket: WebSocket;
}

/**
 * The sockets connected to this instance, by member. Delivery never waits on a socket: a frame
 * is handed to the socket's buffer, and a socket whose buffer has grown past the limit (a slow
 * or stalled client) is closed, so it never holds anyone else up; its client reconnects and
 * catches up by sequence number.
 */
export class Connections {
  private readonly byMember = new Map<string, Set<Connection>>();
  /** TCP sockets holding frames until the current turn of the event loop ends. */
  private readonly corked = new Set<Socket>();

  constructor(private readonly maxBufferedBytes: number) {}

  get size(): number {
    let n = 0;
    for (const set of this.byMember.values()) n += set.size;
    return n;
  }

  add(connection: Connection): void {
    const key = `${connection.corpId}/${connection.userid}`;
    const set = this.byMember.get(key) ?? new Set<Connection>();
    set.add(connection);
    this.byMember.set(key, set);
  }

  remove(connection: Connection): void {
    const key = `${connection.corpId}/${connection.userid}`;
    const set = this.byMember.get(key);
    set?.delete(connection);
    if (set && !set.size) this.byMember.delete(key);
  }

  /** Sends the frame to every socket of these members; returns [delivered, dropped]. */
  deliver(corpId: string, userids: Iterable<string>, frame: object): [number, number] {
    // Encoded once for every socket (ws would otherwise turn the string into bytes per send).
    let payload: Buffer | undefined;
    let delivered = 0;
    let dropped = 0;
    for (const userid of userids) {
      for (const connection of this.byMember.get(`${corpId}/${userid}`) ?? []) {
        if (connection.socket.readyState !== connection.socket.OPEN) continue;
        if (connection.socket.bufferedAmount > this.maxBufferedBytes) {
          connection.socket.close(1013, 'too slow: reconnect and sync by seq');
          dropped++;
          continue;
        }
        payload ??= Buffer.from(JSON.stringify(frame), 'utf8');
        this.cork(connection.socket);
        connection.socket.send(payload, { binary: false });
        delivered++;
      }
    }
    return [delivered, dropped];
  }

  /**
   * Holds the socket's writes until this turn of the event loop is over, so the frames of
   * everything delivered meanwhile (a fetched batch of events) leave in one write per socket
   * instead of one each: the same frames, in the same order, a few system calls instead of many.
   */
  private cork(socket: WebSocket): void {
    // ws keeps the TCP socket in `_socket`; without it (never, in practice) frames go one by one.
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (!raw || this.corked.has(raw)) return;
    if (this.corked.size === 0) setImmediate(() => this.uncorkAll());
    raw.cork();
    this.corked.add(raw);
  }

  private uncorkAll(): void {
    for (const raw of this.corked) raw.uncork();
    this.corked.clear();
  }

  closeAll(code: number, reason: string): void {
    for (const set of this.byMember.values())
      for (const connection of set) connection.socket.close(code, reason);
  }
}
