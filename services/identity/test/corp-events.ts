import { createKafka } from '@qiwei/events';
import { eventually } from '@qiwei/testing';

export interface CorpEvent {
  type: string;
  value: string;
}

/**
 * Reads `topic` from the beginning until the events keyed by `corpId` have exactly the types
 * expected, in order (or the deadline passes), and returns them.
 */
export async function corpEventsOn(
  brokers: string[],
  topic: string,
  corpId: string,
  expectedTypes: string[],
): Promise<CorpEvent[]> {
  const kafka = createKafka({ brokers, clientId: 'identity-test-reader' });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${corpId}` });
  const events: CorpEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (String(message.key) === corpId) {
          events.push({ type: String(message.headers?.ce_type), value: String(message.value) });
        }
      },
    });
    await eventually(() => {
      if (JSON.stringify(events.map((e) => e.type)) !== JSON.stringify(expectedTypes)) {
        throw new Error(
          `events of ${corpId} on ${topic}: ${events.map((e) => e.type).join(', ') || 'none'}`,
        );
      }
    });
  } finally {
    await consumer.disconnect();
  }
  return events;
}
