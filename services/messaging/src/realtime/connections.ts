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
  /** corp → userid → sockets: a delivery looks members up without building a key per member. */
  private readonly byCorp = new Map<string, Map<string, Set<Connection>>>();
  /** TCP sockets holding frames until the current turn of the event loop ends. */
  private readonly corked = new Set<Socket>();

  constructor(private readonly maxBufferedBytes: number) {}

  get size(): number {
    let n = 0;
    for (const members of this.byCorp.values()) for (const set of members.values()) n += set.size;
    return n;
  }

  add(connection: Connection): void {
    let members = this.byCorp.get(connection.corpId);
    if (!members) {
      members = new Map<string, Set<Connection>>();
      this.byCorp.set(connection.corpId, members);
    }
    let set = members.get(connection.userid);
    if (!set) {
      set = new Set<Connection>();
      members.set(connection.userid, set);
    }
    set.add(connection);
  }

  remove(connection: Connection): void {
    const members = this.byCorp.get(connection.corpId);
    const set = members?.get(connection.userid);
    if (!members || !set) return;
    set.delete(connection);
    if (set.size) return;
    members.delete(connection.userid);
    if (!members.size) this.byCorp.delete(connection.corpId);
  }

  /** Sends the frame to every socket of these members; returns [delivered, dropped]. */
  deliver(corpId: string, userids: Iterable<string>, frame: object): [number, number] {
    const members = this.byCorp.get(corpId);
    if (!members) return [0, 0];
    // Encoded once for every socket (ws would otherwise turn the string into bytes per send).
    let payload: Buffer | undefined;
    let delivered = 0;
    let dropped = 0;
    for (const userid of userids) {
      const sockets = members.get(userid);
      if (!sockets) continue;
      for (const connection of sockets) {
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
    for (const members of this.byCorp.values())
      for (const set of members.values())
        for (const connection of set) connection.socket.close(code, reason);
  }
}
