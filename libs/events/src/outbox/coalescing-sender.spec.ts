import type { ProducerBatch, TopicMessages } from 'kafkajs';
import { CoalescingSender } from './coalescing-sender';

/** A producer whose requests are settled by the test, one at a time, in order. */
function fakeProducer() {
  const requests: { batch: ProducerBatch; settle: (error?: Error) => void }[] = [];
  const producer = {
    sendBatch: (batch: ProducerBatch) =>
      new Promise<never[]>((resolve, reject) => {
        requests.push({
          batch,
          settle: (error?: Error) => (error ? reject(error) : resolve([])),
        });
      }),
  };
  return { producer, requests };
}

const batchOf = (topic: string, ...values: string[]): TopicMessages[] => [
  { topic, messages: values.map((value) => ({ key: value, value })) },
];
const valuesOf = (batch: ProducerBatch) =>
  (batch.topicMessages ?? []).flatMap((t) =>
    t.messages.map((m) => `${t.topic}:${String(m.value)}`),
  );
/** Lets the sender's promise chain move on. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescingSender', () => {
  it('sends a batch at once when nothing is in flight, and the batches that waited as one request, in order', async () => {
    const { producer, requests } = fakeProducer();
    const sender = new CoalescingSender(producer, 1_000);
    const done: string[] = [];
    const a = sender.send(batchOf('t1', 'a1', 'a2')).then(() => done.push('a'));
    const b = sender.send(batchOf('t1', 'b1')).then(() => done.push('b'));
    const c = sender.send(batchOf('t2', 'c1', 'c2')).then(() => done.push('c'));
    await settled();
    expect(requests).toHaveLength(1);
    expect(valuesOf(requests[0].batch)).toEqual(['t1:a1', 't1:a2']);
    expect(requests[0].batch.acks).toBe(-1);

    requests[0].settle();
    await a;
    await settled();
    expect(done).toEqual(['a']);
    expect(requests).toHaveLength(2);
    expect(valuesOf(requests[1].batch)).toEqual(['t1:b1', 't2:c1', 't2:c2']);

    requests[1].settle();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    expect({ requests: sender.requests, batches: sender.batches }).toEqual({
      requests: 2,
      batches: 3,
    });
  });

  it('keeps a request within maxRecords: full batches still go one per request', async () => {
    const { producer, requests } = fakeProducer();
    const sender = new CoalescingSender(producer, 3);
    const first = sender.send(batchOf('t', 'x'));
    const second = sender.send(batchOf('t', 'a1', 'a2'));
    const third = sender.send(batchOf('t', 'b1', 'b2'));
    const fourth = sender.send(batchOf('t', 'c1'));
    await settled();
    requests[0].settle();
    await first;
    await settled();
    // a (2) + b (2) would exceed 3 records: a goes alone, then b with c (3).
    expect(valuesOf(requests[1].batch)).toEqual(['t:a1', 't:a2']);
    requests[1].settle();
    await second;
    await settled();
    expect(valuesOf(requests[2].batch)).toEqual(['t:b1', 't:b2', 't:c1']);
    requests[2].settle();
    await Promise.all([third, fourth]);
    expect(requests).toHaveLength(3);
  });

  it('a batch larger than maxRecords is still sent, alone', async () => {
    const { producer, requests } = fakeProducer();
    const sender = new CoalescingSender(producer, 1);
    const big = sender.send(batchOf('t', 'a', 'b', 'c'));
    await settled();
    expect(valuesOf(requests[0].batch)).toEqual(['t:a', 't:b', 't:c']);
    requests[0].settle();
    await expect(big).resolves.toBeUndefined();
  });

  it('rejects a batch that fails alone, and goes on with the next', async () => {
    const { producer, requests } = fakeProducer();
    const sender = new CoalescingSender(producer, 1_000);
    const failing = sender.send(batchOf('t', 'x'));
    await settled();
    const failure = new Error('broker gone');
    requests[0].settle(failure);
    await expect(failing).rejects.toBe(failure);

    const after = sender.send(batchOf('t', 'c'));
    await settled();
    expect(valuesOf(requests[1].batch)).toEqual(['t:c']);
    requests[1].settle();
    await expect(after).resolves.toBeUndefined();
  });

  it('when a request of several batches fails, sends each again alone: only the batch that fails alone fails', async () => {
    const { producer, requests } = fakeProducer();
    const sender = new CoalescingSender(producer, 1_000);
    const first = sender.send(batchOf('t', 'x'));
    const good = sender.send(batchOf('t', 'a'));
    const bad = sender.send(batchOf('missing', 'b'));
    const later = sender.send(batchOf('t', 'c'));
    await settled();
    requests[0].settle();
    await first;
    await settled();
    expect(valuesOf(requests[1].batch)).toEqual(['t:a', 'missing:b', 't:c']);
    const failure = new Error('unknown topic missing');
    requests[1].settle(failure);
    await settled();
    // Alone, in order: a, then b, then c.
    expect(valuesOf(requests[2].batch)).toEqual(['t:a']);
    requests[2].settle();
    await expect(good).resolves.toBeUndefined();
    await settled();
    expect(valuesOf(requests[3].batch)).toEqual(['missing:b']);
    requests[3].settle(failure);
    await expect(bad).rejects.toBe(failure);
    await settled();
    expect(valuesOf(requests[4].batch)).toEqual(['t:c']);
    requests[4].settle();
    await expect(later).resolves.toBeUndefined();
    expect(requests).toHaveLength(5);
  });
});
