import { ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';

/** The subset of JSON Schema (draft-07, as AsyncAPI 3 schemas are) this generator emits. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly format?: string;
  readonly pattern?: string;
  readonly contentEncoding?: string;
  readonly const?: string;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly items?: JsonSchema;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly required?: readonly string[];
  readonly anyOf?: readonly JsonSchema[];
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** Where message schemas live in the AsyncAPI document; `$ref`s point here. */
export const schemaRef = (message: DescMessage) => `#/components/schemas/${message.typeName}`;

const INT64_PATTERN = '^-?[0-9]+$';
const UINT64_PATTERN = '^[0-9]+$';

/** Scalars as the proto3 JSON mapping writes them (https://protobuf.dev/programming-guides/json/). */
function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', minimum: 0, maximum: 4294967295 };
    // 64-bit integers are strings in JSON: a JavaScript number cannot hold them exactly.
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: 'string', pattern: INT64_PATTERN, description: '64-bit integer, as a string' };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return {
        type: 'string',
        pattern: UINT64_PATTERN,
        description: '64-bit integer, as a string',
      };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return {
        anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }],
      };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
  }
}

function enumSchema(desc: DescEnum): JsonSchema {
  return { type: 'string', title: desc.typeName, enum: desc.values.map((value) => value.name) };
}

const WRAPPERS = new Set(
  [
    'DoubleValue',
    'FloatValue',
    'Int64Value',
    'UInt64Value',
    'Int32Value',
    'UInt32Value',
    'BoolValue',
    'StringValue',
    'BytesValue',
  ].map((name) => `google.protobuf.${name}`),
);

/**
 * Well-known types have their own JSON forms, so they are inlined rather than described as
 * messages; `undefined` for any other message.
 */
function wellKnownSchema(message: DescMessage): JsonSchema | undefined {
  if (WRAPPERS.has(message.typeName)) {
    const value = message.fields[0];
    if (value?.fieldKind === 'scalar') return scalarSchema(value.scalar);
  }
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return { type: 'string', format: 'date-time' };
    case 'google.protobuf.Duration':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' };
    case 'google.protobuf.FieldMask':
      return { type: 'string', description: 'Comma-separated lowerCamelCase field paths' };
    case 'google.protobuf.Empty':
      return { type: 'object' };
    case 'google.protobuf.Struct':
      return { type: 'object' };
    case 'google.protobuf.ListValue':
      return { type: 'array' };
    case 'google.protobuf.Value':
      return { description: 'Any JSON value' };
    case 'google.protobuf.Any':
      return {
        type: 'object',
        properties: { '@type': { type: 'string' } },
        required: ['@type'],
      };
    default:
      return undefined;
  }
}

/** A message field's schema: a well-known type inline, any other message by reference. */
function messageSchema(message: DescMessage): JsonSchema {
  return wellKnownSchema(message) ?? { $ref: schemaRef(message) };
}

function fieldSchema(field: DescField): JsonSchema {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumSchema(field.enum);
    case 'message':
      return messageSchema(field.message);
    case 'list':
      return { type: 'array', items: listElementSchema(field) };
    // JSON object keys are always strings, whatever the proto key type.
    case 'map':
      return { type: 'object', additionalProperties: mapValueSchema(field) };
  }
}

function listElementSchema(field: Extract<DescField, { fieldKind: 'list' }>): JsonSchema {
  switch (field.listKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumSchema(field.enum);
    case 'message':
      return messageSchema(field.message);
  }
}

function mapValueSchema(field: Extract<DescField, { fieldKind: 'map' }>): JsonSchema {
  switch (field.mapKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumSchema(field.enum);
    case 'message':
      return messageSchema(field.message);
  }
}

/**
 * Fields a producer always writes. Payloads are serialized with `alwaysEmitImplicit`, so every
 * implicit-presence field (plain scalars, enums, lists, maps) is present even at its default;
 * fields with explicit presence (`optional`, oneof members, messages) appear only when set.
 */
const isAlwaysWritten = (field: DescField) =>
  field.presence === FeatureSet_FieldPresence.IMPLICIT && field.oneof === undefined;

/** The JSON Schema of one message (not of the messages it uses: see `collectMessageSchemas`). */
export function messageJsonSchema(message: DescMessage): JsonSchema {
  const fields = [...message.fields].sort((a, b) => a.number - b.number);
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) {
    const schema = fieldSchema(field);
    properties[field.jsonName] = field.oneof
      ? {
          ...schema,
          description: `One of ${field.oneof.fields.map((f) => f.jsonName).join(', ')} (oneof ${field.oneof.name}): at most one is set.`,
        }
      : schema;
  }
  const required = fields.filter(isAlwaysWritten).map((field) => field.jsonName);
  return {
    type: 'object',
    title: message.typeName,
    properties,
    ...(required.length > 0 ? { required } : {}),
  };
}

function referencedMessages(message: DescMessage): DescMessage[] {
  return message.fields.flatMap((field) =>
    field.message && wellKnownSchema(field.message) === undefined ? [field.message] : [],
  );
}

/**
 * The schemas of the given messages and of every message they reference, keyed by full name,
 * so a message shared by several events (qiwei.identity.v1.Department) is described once.
 */
export function collectMessageSchemas(roots: readonly DescMessage[]): Record<string, JsonSchema> {
  const found = new Map<string, DescMessage>();
  const pending = [...roots];
  for (let message = pending.pop(); message; message = pending.pop()) {
    if (found.has(message.typeName)) continue;
    found.set(message.typeName, message);
    pending.push(...referencedMessages(message));
  }
  return Object.fromEntries(
    [...found.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, message]) => [name, messageJsonSchema(message)]),
  );
}
