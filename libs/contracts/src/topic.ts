import type { DescMessage } from '@bufbuild/protobuf';

/** One kind of event on a topic: its CloudEvents `type` and the proto message of its payload. */
export interface EventTypeDefinition<M extends DescMessage = DescMessage> {
  /** `qiwei.<service>.<aggregate>.<happened>.v<major>` */
  readonly type: string;
  readonly schema: M;
  readonly summary: string;
}

/**
 * A Kafka topic in Qiwei's catalog: the contract downstream teams build on. The AsyncAPI
 * document (docs/asyncapi.yaml) is generated from these definitions.
 */
export interface TopicDefinition {
  /** `qiwei.<service>.<aggregate>.v<major>` */
  readonly name: string;
  /** The service that owns and publishes it (a folder under services/). */
  readonly publisher: string;
  readonly summary: string;
  /** What the Kafka key (the partition key) is, and which order it preserves. */
  readonly key: string;
  readonly partitions: number;
  /** -1 keeps records forever. */
  readonly retentionMs: number;
  readonly events: readonly EventTypeDefinition[];
}

const TOPIC_NAME = /^qiwei\.([a-z][a-z-]*)\.([a-z][a-z-]*)\.v([1-9][0-9]*)$/;
const EVENT_TYPE = /^qiwei\.([a-z][a-z-]*)\.([a-z][a-z-]*)\.([a-z][a-z_]*)\.v([1-9][0-9]*)$/;

/** Declares a topic, refusing names that break the conventions of DESIGN.md. */
export function defineTopic<const T extends TopicDefinition>(topic: T): T {
  const name = TOPIC_NAME.exec(topic.name);
  if (!name)
    throw new Error(`Topic name ${topic.name} must be qiwei.<service>.<aggregate>.v<major>`);
  const [, service, aggregate, major] = name;
  if (service !== topic.publisher) {
    throw new Error(`Topic ${topic.name} must be published by ${service}, not ${topic.publisher}`);
  }
  if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
    throw new Error(`Topic ${topic.name} needs at least one partition`);
  }
  if (topic.events.length === 0) throw new Error(`Topic ${topic.name} declares no event types`);
  const seen = new Set<string>();
  for (const event of topic.events) {
    const type = EVENT_TYPE.exec(event.type);
    if (!type || type[1] !== service || type[2] !== aggregate || type[4] !== major) {
      throw new Error(
        `Event type ${event.type} must be qiwei.${service}.${aggregate}.<happened>.v${major} on ${topic.name}`,
      );
    }
    if (seen.has(event.type))
      throw new Error(`Event type ${event.type} is declared twice on ${topic.name}`);
    seen.add(event.type);
  }
  return topic;
}

/** The dead-letter topic of a topic. */
export const deadLetterTopicOf = (topic: string) => `${topic}.dlq`;
