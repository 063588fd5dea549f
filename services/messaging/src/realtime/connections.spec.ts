import type { WebSocket } from 'ws';
import { Connections } from './connections';

/** A socket stand-in that records what it was sent, with a settable send buffer. */
function fakeSocket(bufferedAmount = 0) {
  const sent: string[] = [];
  const closed: number[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount,
    // Text frames only (binary: false), as UTF-8 bytes encoded once for all sockets.
    send: (data: Buffer, options: { binary: boolean }) =>
      sent.push(options.binary ? '(binary)' : data.toString('utf8')),
    close: (code: number) => closed.push(code),
  };
  return { socket: socket as unknown as WebSocket, sent, closed };
}

describe('Connections', () => {
  it('delivers to every socket of the members named, in their corp only', () => {
    const connections = new Connections(1024);
    const phone = fakeSocket();
    const laptop = fakeSocket();
    const otherCorp = fakeSocket();
    connections.add({ corpId: 'wwa', userid: 'alice', socket: phone.socket });
    connections.add({ corpId: 'wwa', userid: 'alice', socket: laptop.socket });
    connections.add({ corpId: 'wwb', userid: 'alice', socket: otherCorp.socket });
    expect(connections.deliver('wwa', ['alice', 'bob'], { type: 'message', text: '你好' })).toEqual(
      [2, 0],
    );
    expect(phone.sent).toEqual(['{"type":"message","text":"你好"}']);
    expect(laptop.sent).toEqual(['{"type":"message","text":"你好"}']);
    expect(otherCorp.sent).toEqual([]);
    expect(connections.size).toBe(3);
  });

  it('closes a socket whose buffer is over the limit instead of waiting for it, and others still get the frame', () => {
    const connections = new Connections(1024);
    const slow = fakeSocket(4096);
    const fast = fakeSocket(0);
    connections.add({ corpId: 'wwa', userid: 'alice', socket: slow.socket });
    connections.add({ corpId: 'wwa', userid: 'bob', socket: fast.socket });
    expect(connections.deliver('wwa', ['alice', 'bob'], { type: 'message' })).toEqual([1, 1]);
    expect(slow.closed).toEqual([1013]);
    expect(slow.sent).toEqual([]);
    expect(fast.sent).toHaveLength(1);
  });

  it('forgets closed connections', () => {
    const connections = new Connections(1024);
    const one = fakeSocket();
    const connection = { corpId: 'wwa', userid: 'alice', socket: one.socket };
    connections.add(connection);
    connections.remove(connection);
    expect(connections.size).toBe(0);
    expect(connections.deliver('wwa', ['alice'], { type: 'message' })).toEqual([0, 0]);
  });

  it('lets the frames of one turn of the event loop leave a socket in one write', async () => {
    const connections = new Connections(1024);
    const calls: string[] = [];
    const tcp = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
    const phone = fakeSocket();
    const socket = Object.assign(phone.socket, { _socket: tcp });
    connections.add({ corpId: 'wwa', userid: 'alice', socket });
    for (let i = 0; i < 3; i++) connections.deliver('wwa', ['alice'], { type: 'message', seq: i });
    expect(phone.sent).toHaveLength(3);
    expect(calls).toEqual(['cork']); // held together…
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['cork', 'uncork']); // …and written once this turn is over
    connections.deliver('wwa', ['alice'], { type: 'message', seq: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });
});
