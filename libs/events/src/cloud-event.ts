import { randomUUID } from 'node:crypto';
import {
  create,
  toJsonString,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { EventTypeDefinition, TopicDefinition } from '@qiwei/contracts';
import { PoisonMessageError } from './errors';
import { parsePayload } from './payload';

/** CloudEvents 1.0, Kafka protocol binding, binary content mode: attributes travel as headers. */
export const CE_SPECVERSION = '1.0';
export const HEADER = {
  id: 'ce_id',
  source: 'ce_source',
  type: 'ce_type',
  specversion: 'ce_specversion',
  time: 'ce_time',
  subject: 'ce_subject',
  tenant: 'ce_tenant',
  dataschema: 'ce_dataschema',
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** What a publisher states about an event; id, time and trace context are filled in. */
export interface NewEvent<M extends DescMessage = DescMessage> {
  type: string;
  /** The corp (tenant) the event belongs to. */
  tenant: string;
  /** What the event is about, e.g. `department/12`. */
  subject: string;
  /** The Kafka key: the partition key that keeps related events in order. */
  key: string;
  data: MessageInitShape<M>;
  /** Set when the caller has its own idempotent id; a UUID otherwise. */
  id?: string;
  time?: Date;
}

/** An event as a consumer receives it: validated headers and a typed payload. */
export interface ReceivedEvent<M extends DescMessage = DescMessage> {
  id: string;
  type: string;
  source: string;
  subject: string;
  tenant: string;
  time: Date;
  key: string | null;
  dataschema: string;
  data: MessageShape<M>;
  /**
   * The payload's JSON text as received. `data` drops fields this build's schema does not know
   * yet (a producer a schema version ahead); a consumer that must not miss one reads it here.
   */
  payload?: string;
  headers: Record<string, string>;
  topic: string;
  partition: number;
  offset: string;
  /**
   * The record's Kafka timestamp in epoch milliseconds (the producer's send time, or the
   * broker's append time on a topic configured so), when the record carries one.
   */
  timestampMs?: number;
}

/** A record ready for Kafka (or stored in the outbox until it is). */
export interface EncodedEvent {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export function eventTypeOf(topic: TopicDefinition, type: string): EventTypeDefinition {
  const definition = topic.events.find((e) => e.type === type);
  if (!definition) throw new Error(`Event type ${type} is not declared on topic ${topic.name}`);
  return definition;
}

/** Encodes an event as a binary-mode CloudEvent whose value is the proto3 JSON payload. */
export function encodeEvent<M extends DescMessage>(
  topic: TopicDefinition,
  source: string,
  event: NewEvent<M>,
  traceHeaders: Record<string, string> = {},
): EncodedEvent {
  const definition = eventTypeOf(topic, event.type);
  const schema = definition.schema as M;
  const id = event.id ?? randomUUID();
  return {
    id,
    topic: topic.name,
    key: event.key,
    // Every field, defaults included: readers with any JSON tool see the whole state.
    value: toJsonString(schema, create(schema, event.data), { alwaysEmitImplicit: true }),
    headers: {
      [HEADER.id]: id,
      [HEADER.source]: source,
      [HEADER.type]: event.type,
      [HEADER.specversion]: CE_SPECVERSION,
      [HEADER.time]: (event.time ?? new Date()).toISOString(),
      [HEADER.subject]: event.subject,
      [HEADER.tenant]: event.tenant,
      [HEADER.dataschema]: schema.typeName,
      [HEADER.contentType]: 'application/json',
      ...traceHeaders,
    },
  };
}

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  /** Kafka's timestamp (epoch milliseconds as text, as kafkajs gives it). */
  timestamp?: string;
}

/** Kafka headers as strings (the last value wins when a header repeats). */
export function headersOf(record: Pick<RawRecord, 'headers'>): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = record.headers;
  if (!raw) return headers;
  // Called for every record consumed: one key array, no entry pairs.
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) headers[name] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return headers;
}

const REQUIRED_HEADERS = [
  HEADER.id,
  HEADER.source,
  HEADER.type,
  HEADER.specversion,
  HEADER.time,
  HEADER.tenant,
] as const;

/**
 * Validates and decodes a record of `topic`. Anything that is not one of the topic's declared
 * events, with its schema and well-formed payload, is poison: it will never decode.
 * Unknown payload fields are tolerated (a producer may be a schema version ahead).
 */
export function decodeEvent(topic: TopicDefinition, record: RawRecord): ReceivedEvent {
  const headers = headersOf(record);
  for (const name of REQUIRED_HEADERS) {
    if (!headers[name]) throw new PoisonMessageError(`missing CloudEvents header ${name}`);
  }
  if (headers[HEADER.specversion] !== CE_SPECVERSION) {
    throw new PoisonMessageError(`unsupported ce_specversion ${headers[HEADER.specversion]}`);
  }
  const definition = topic.events.find((e) => e.type === headers[HEADER.type]);
  if (!definition)
    throw new PoisonMessageError(
      `event type ${headers[HEADER.type]} is not declared on ${topic.name}`,
    );
  if (headers[HEADER.dataschema] && headers[HEADER.dataschema] !== definition.schema.typeName) {
    throw new PoisonMessageError(
      `ce_dataschema ${headers[HEADER.dataschema]} does not match ${definition.schema.typeName} for ${definition.type}`,
    );
  }
  const time = new Date(headers[HEADER.time]);
  if (Number.isNaN(time.getTime()))
    throw new PoisonMessageError(`invalid ce_time ${headers[HEADER.time]}`);
  if (!record.value) throw new PoisonMessageError('empty payload');
  let data: MessageShape<DescMessage>;
  const payload = record.value.toString('utf8');
  try {
    data = parsePayload(definition.schema, payload);
  } catch (error) {
    throw new PoisonMessageError(
      `payload is not a valid ${definition.schema.typeName}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return {
    id: headers[HEADER.id],
    type: headers[HEADER.type],
    source: headers[HEADER.source],
    subject: headers[HEADER.subject] ?? '',
    tenant: headers[HEADER.tenant],
    time,
    key: record.key ? record.key.toString('utf8') : null,
    dataschema: definition.schema.typeName,
    data,
    payload,
    headers,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestampMs:
      record.timestamp !== undefined && record.timestamp !== '-1'
        ? Number(record.timestamp)
        : undefined,
  };
}
