import { startTestKafka, type TestKafka } from '@qiwei/testing';
import type { Producer } from 'kafkajs';
import { createKafka, createProducer, patchKafkaRequestQueue } from '../src';

// kafkajs's own request queue, as createKafka's module patched it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as {
  prototype: { checkPendingRequests(): void };
};

/**
 * kafkajs 2.2.4 re-arms a 1 ms timer on every idle broker connection forever (~50 ms of CPU a
 * second each); createKafka's module stops that, and requests still flow.
 */
describe('events: idle kafkajs connections do not spin', () => {
  let broker: TestKafka;
  let producer: Producer;
  beforeAll(async () => {
    broker = await startTestKafka();
    producer = createProducer(createKafka({ brokers: broker.brokers, clientId: 'idle-test' }));
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await broker.stop();
  });

  it('is applied (once) to the kafkajs in use', () => {
    expect(patchKafkaRequestQueue()).toBe(true);
  });

  it('checks the request queue only when there is something to check', async () => {
    await producer.send({ topic: 'qiwei.testing.idle.v1', acks: -1, messages: [{ value: 'a' }] });
    const checks = jest.spyOn(RequestQueue.prototype, 'checkPendingRequests');
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Unpatched: one check per millisecond per connection (hundreds here).
      expect(checks.mock.calls.length).toBeLessThan(10);
      // Requests are still sent and answered.
      await producer.send({ topic: 'qiwei.testing.idle.v1', acks: -1, messages: [{ value: 'b' }] });
    } finally {
      checks.mockRestore();
    }
  });
});
