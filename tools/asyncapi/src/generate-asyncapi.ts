import {
  deadLetterTopicOf,
  type EventTypeDefinition,
  type TopicDefinition,
} from '@qiwei/contracts';
import { stringify } from 'yaml';
import { collectMessageSchemas, schemaRef, type JsonSchema } from './proto-json-schema';

export const KAFKA_BINDING_VERSION = '0.5.0';
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const CONTENT_TYPE = 'application/json';

interface Reference {
  readonly $ref: string;
}

export interface AsyncApiMessage {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly description: string;
  readonly contentType: string;
  readonly headers: JsonSchema;
  readonly payload: JsonSchema;
  readonly bindings: {
    readonly kafka: { readonly key: JsonSchema; readonly bindingVersion: string };
  };
}

export interface AsyncApiChannel {
  readonly address: string;
  readonly title: string;
  readonly description: string;
  readonly messages: Readonly<Record<string, Reference>>;
  readonly bindings: {
    readonly kafka: {
      readonly partitions: number;
      readonly topicConfiguration: { readonly 'retention.ms': number };
      readonly bindingVersion: string;
    };
  };
}

export interface AsyncApiOperation {
  readonly action: 'send' | 'receive';
  readonly title: string;
  readonly summary: string;
  readonly channel: Reference;
  readonly messages: readonly Reference[];
}

export interface AsyncApiServer {
  readonly host: string;
  readonly protocol: 'kafka';
  readonly description: string;
  readonly variables?: Readonly<Record<string, { readonly description: string }>>;
}

export interface AsyncApiDocument {
  readonly asyncapi: '3.0.0';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string;
    readonly license: { readonly name: string };
  };
  readonly defaultContentType: string;
  readonly servers: Readonly<Record<string, AsyncApiServer>>;
  readonly channels: Readonly<Record<string, AsyncApiChannel>>;
  readonly operations: Readonly<Record<string, AsyncApiOperation>>;
  readonly components: {
    readonly messages: Readonly<Record<string, AsyncApiMessage>>;
    readonly schemas: Readonly<Record<string, JsonSchema>>;
  };
}

export interface AsyncApiOptions {
  /** The document's version: Qiwei's release (package.json), so the catalog is tied to it. */
  readonly version: string;
}

const DESCRIPTION = `Every Kafka topic Qiwei publishes, generated from the topic catalog
(\`libs/contracts/src/topics/\`) and the protobuf schemas in \`proto/\`; do not edit by hand.

**Envelope.** Every record is a [CloudEvent](https://cloudevents.io) in the Kafka protocol
binding's *binary content mode*: the attributes travel as Kafka headers (\`ce_id\`,
\`ce_source\`, \`ce_type\`, \`ce_specversion\` = 1.0, \`ce_time\`, \`ce_subject\`, the
\`ce_tenant\` extension holding the corp id, \`ce_dataschema\` naming the payload's protobuf
message, \`content-type: application/json\`) and the W3C \`traceparent\` header carries the trace.

**Payload.** The record value is the event's protobuf message in the
[proto3 JSON mapping](https://protobuf.dev/programming-guides/json/): lowerCamelCase field names,
64-bit integers as strings, enums by name, timestamps as RFC 3339 strings, bytes as base64.
Producers write every field without explicit presence, even at its default value; \`optional\`,
oneof and message fields appear only when set. The schemas are the \`.proto\` files of
\`proto/\` (a buf module): generate your own types from them, and parse with unknown fields
ignored, because new fields are added without a new major version.

**Key.** The record key is the partition key described on each message; records with one key
are consumed in the order they were written.

**Dead letters.** Every topic \`<topic>\` has a dead-letter topic \`<topic>.dlq\`: a record that a
consumer could not process after bounded retries is copied there with its key, value and
headers, plus \`dlq_error\`, \`dlq_original_topic\`, \`dlq_original_partition\`,
\`dlq_original_offset\`, \`dlq_attempts\` and \`dlq_failed_at\`.

**Consuming.** Subscribe with your own consumer group; dispatch on \`ce_type\` and skip types
you do not know; deduplicate on \`ce_id\` (delivery is at least once); scope everything by
\`ce_tenant\`. A breaking change gets a new major version: a new topic (\`.v2\`) and new event
types, published alongside the old ones for a transition period.`;

/** Topic names are channel ids as they are: readable, and unique by construction. */
const channelRef = (channelId: string): Reference => ({ $ref: `#/channels/${channelId}` });

const messageRef = (messageId: string): Reference => ({
  $ref: `#/components/messages/${messageId}`,
});

/** The message of an event type as it sits on the dead-letter topic (extra `dlq_*` headers). */
const deadLetterMessageId = (eventType: string) => `${eventType}.dlq`;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `qiwei.identity.department.created.v1` → `Department created (v1)` */
function titleOf(eventType: string): string {
  const [, , aggregate = '', happened = '', major = ''] = eventType.split('.');
  const words = `${aggregate.replace(/-/g, ' ')} ${happened.replace(/_/g, ' ')}`;
  return `${words.charAt(0).toUpperCase()}${words.slice(1)} (${major})`;
}

const stringHeader = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  description,
  ...extra,
});

function cloudEventHeaders(event: EventTypeDefinition): {
  properties: Record<string, JsonSchema>;
  required: string[];
} {
  return {
    properties: {
      ce_id: stringHeader('Unique id of the event; deduplicate on it.', { minLength: 1 }),
      ce_source: stringHeader('URI reference of the service that published the event.', {
        minLength: 1,
      }),
      ce_type: stringHeader('CloudEvents type.', { const: event.type }),
      ce_specversion: stringHeader('CloudEvents version.', { const: CLOUDEVENTS_SPEC_VERSION }),
      ce_time: stringHeader('When the change happened (RFC 3339).', { format: 'date-time' }),
      ce_subject: stringHeader('Id of the aggregate the event is about.', { minLength: 1 }),
      ce_tenant: stringHeader('Corp id (tenant) the event belongs to.', { minLength: 1 }),
      ce_dataschema: stringHeader('Full name of the protobuf message of the payload.', {
        const: event.schema.typeName,
      }),
      'content-type': stringHeader('Media type of the value.', { const: CONTENT_TYPE }),
      traceparent: stringHeader('W3C trace context of the change that caused the event.', {
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      }),
    },
    required: [
      'ce_id',
      'ce_source',
      'ce_type',
      'ce_specversion',
      'ce_time',
      'ce_subject',
      'ce_tenant',
      'ce_dataschema',
      'content-type',
    ],
  };
}

// Header values are bytes on the wire; numbers travel as their decimal strings.
const DLQ_HEADERS: Record<string, JsonSchema> = {
  dlq_error: stringHeader('Why the last attempt failed (error code and message).'),
  dlq_original_partition: stringHeader('Partition of the original record.', {
    pattern: '^[0-9]+$',
  }),
  dlq_original_offset: stringHeader('Offset of the original record.', { pattern: '^[0-9]+$' }),
  dlq_attempts: stringHeader('How many times the consumer tried.', { pattern: '^[1-9][0-9]*$' }),
  dlq_failed_at: stringHeader('When the record was dead-lettered (RFC 3339).', {
    format: 'date-time',
  }),
};

function eventMessage(
  topic: TopicDefinition,
  event: EventTypeDefinition,
  deadLetter: boolean,
): AsyncApiMessage {
  const ce = cloudEventHeaders(event);
  const headers: JsonSchema = deadLetter
    ? {
        type: 'object',
        properties: {
          ...ce.properties,
          ...DLQ_HEADERS,
          dlq_original_topic: stringHeader('Topic the record was consumed from.', {
            const: topic.name,
          }),
        },
        required: [...ce.required, ...Object.keys(DLQ_HEADERS), 'dlq_original_topic'],
      }
    : { type: 'object', ...ce };
  const summary = deadLetter ? `Dead letter: ${event.summary}` : event.summary;
  return {
    name: deadLetter ? deadLetterMessageId(event.type) : event.type,
    title: deadLetter ? `${titleOf(event.type)}, dead-lettered` : titleOf(event.type),
    summary,
    description: `CloudEvents type \`${event.type}\`; payload \`${event.schema.typeName}\` (proto3 JSON).`,
    contentType: CONTENT_TYPE,
    headers,
    payload: { $ref: schemaRef(event.schema) },
    bindings: {
      kafka: {
        key: { type: 'string', description: topic.key },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function topicChannel(
  topic: TopicDefinition,
  messageIds: readonly string[],
  deadLetter: boolean,
): AsyncApiChannel {
  return {
    address: deadLetter ? deadLetterTopicOf(topic.name) : topic.name,
    title: deadLetter ? `${topic.name} dead letters` : topic.name,
    description: deadLetter
      ? `Records of ${topic.name} that a consumer gave up on after bounded retries, with the error attached. Same partition count as ${topic.name} and kept until removed, so nothing is lost silently.`
      : `${topic.summary} Published by ${topic.publisher}. Key: ${topic.key}`,
    messages: Object.fromEntries(messageIds.map((id) => [id, messageRef(id)])),
    bindings: {
      kafka: {
        partitions: topic.partitions,
        // Dead letters wait for an operator, whatever the retention of the topic they came from.
        topicConfiguration: { 'retention.ms': deadLetter ? -1 : topic.retentionMs },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function sortedRecord<V>(entries: readonly (readonly [string, V])[]): Record<string, V> {
  return Object.fromEntries([...entries].sort(([a], [b]) => byName(a, b)));
}

/**
 * The AsyncAPI 3 document of a topic catalog. Pure and deterministic (maps sorted by id,
 * payload properties in field-number order), so regenerating an unchanged catalog changes
 * nothing in docs/asyncapi.yaml.
 */
export function buildAsyncApiDocument(
  catalog: readonly TopicDefinition[],
  options: AsyncApiOptions,
): AsyncApiDocument {
  const channels: (readonly [string, AsyncApiChannel])[] = [];
  const operations: (readonly [string, AsyncApiOperation])[] = [];
  const messages: (readonly [string, AsyncApiMessage])[] = [];
  for (const topic of catalog) {
    for (const event of topic.events) {
      messages.push([event.type, eventMessage(topic, event, false)]);
      messages.push([deadLetterMessageId(event.type), eventMessage(topic, event, true)]);
    }
    const eventIds = topic.events.map((event) => event.type);
    const deadLetterIds = eventIds.map(deadLetterMessageId);
    const deadLetterTopic = deadLetterTopicOf(topic.name);
    channels.push([topic.name, topicChannel(topic, eventIds, false)]);
    channels.push([deadLetterTopic, topicChannel(topic, deadLetterIds, true)]);
    operations.push([
      `${topic.publisher}.send.${topic.name}`,
      {
        action: 'send',
        title: `${topic.publisher} publishes ${topic.name}`,
        summary: topic.summary,
        channel: channelRef(topic.name),
        messages: eventIds.map((id) => ({ $ref: `#/channels/${topic.name}/messages/${id}` })),
      },
    ]);
  }
  const roots = catalog.flatMap((topic) => topic.events.map((event) => event.schema));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Qiwei events',
      version: options.version,
      description: DESCRIPTION,
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: CONTENT_TYPE,
    servers: {
      development: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description:
          'The embedded broker (tools/dev-kafka) that `npm start` runs on one machine; any Kafka client, kcat included, can read it.',
      },
      production: {
        host: '{bootstrapServers}',
        protocol: 'kafka',
        description: 'The Kafka cluster Qiwei is deployed with.',
        variables: {
          bootstrapServers: {
            description:
              "The cluster's bootstrap servers (host:port[,host:port…]), as configured in the Helm values.",
          },
        },
      },
    },
    channels: sortedRecord(channels),
    operations: sortedRecord(operations),
    components: {
      messages: sortedRecord(messages),
      schemas: collectMessageSchemas(roots),
    },
  };
}

/** The YAML of docs/asyncapi.yaml. */
export function renderAsyncApiYaml(document: AsyncApiDocument): string {
  const body = stringify(document, {
    // Shared objects (a channel's bindings) must be written out, not as YAML anchors/aliases.
    aliasDuplicateObjects: false,
    // Multi-line Markdown stays as written instead of being folded.
    blockQuote: 'literal',
    lineWidth: 100,
  });
  return `# Generated by \`npm run asyncapi:generate\` from libs/contracts (TOPIC_CATALOG) and proto/.\n# Do not edit: change the catalog or the schemas and regenerate.\n${body}`;
}
