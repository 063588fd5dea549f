import { randomUUID } from 'node:crypto';
import type { TopicDefinition } from '@qiwei/contracts';
import { createKafka } from '@qiwei/events';
import { eventually } from '@qiwei/testing';
import type { Consumer } from 'kafkajs';

export interface RecordedEvent {
  key: string;
  type: string;
  /** The proto3 JSON payload. */
  data: Record<string, unknown>;
}

/** Records every event of a topic (from its beginning), as a downstream consumer sees them. */
export class TopicRecorder {
  readonly events: RecordedEvent[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[], topic: TopicDefinition): Promise<TopicRecorder> {
    const consumer = createKafka({ brokers, clientId: 'topic-recorder' }).consumer({
      groupId: `topic-recorder-${randomUUID()}`,
    });
    const recorder = new TopicRecorder(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        recorder.events.push({
          key: String(message.key),
          type: String(message.headers?.ce_type),
          data: JSON.parse(String(message.value)) as Record<string, unknown>,
        });
      },
    });
    return recorder;
  }

  /** The events that match, once there are at least `count` of them. */
  async waitFor(match: (e: RecordedEvent) => boolean, count = 1): Promise<RecordedEvent[]> {
    return eventually(
      () => {
        const found = this.events.filter(match);
        if (found.length < count) throw new Error(`${found.length} of ${count} events seen`);
        return found;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
