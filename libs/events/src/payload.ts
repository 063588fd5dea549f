import {
  create,
  fromJson,
  fromJsonString,
  protoInt64,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonValue,
  type MessageShape,
} from '@bufbuild/protobuf';

/**
 * Reading event payloads (proto3 JSON) as messages, with exactly the rules of protobuf-es's
 * `fromJsonString(schema, text, { ignoreUnknownFields: true })`, in less time for the payloads
 * every publisher writes.
 *
 * `fromJsonString` parses the text, scans it character by character for duplicate keys (which
 * JSON.parse silently merges), then walks the parsed value with a reader that accepts every
 * form proto3 JSON allows. A consumer validates every record it receives, so this is paid per
 * event. Publishers write one form only: compact, lowerCamelCase names, numbers as numbers,
 * 64-bit integers as decimal strings, enums by name, timestamps as RFC 3339 strings. This
 * module reads that form with a reader compiled per message type, checks for duplicate keys by
 * counting the text's members, and hands everything else — other spellings, nulls, unknown
 * fields, oneofs, maps, bytes, floats, any doubt — to `fromJsonString`, which accepts or
 * refuses it with its own error. So a payload is accepted exactly when `fromJsonString`
 * accepts it, and yields the same message.
 */
export function parsePayload<M extends DescMessage>(schema: M, payload: string): MessageShape<M> {
  return readCanonicalPayload(schema, payload) ?? fromJsonString(schema, payload, PARSE_OPTIONS);
}

/**
 * The message, when the payload is in the form publishers write and free of duplicate keys;
 * undefined otherwise (`fromJsonString` then decides). Exported for the tests.
 */
export function readCanonicalPayload<M extends DescMessage>(
  schema: M,
  payload: string,
): MessageShape<M> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const count = { keys: 0 };
  let message: unknown;
  try {
    message = readerOf(schema)(json, count, 1);
  } catch {
    return undefined; // a well-known type the library refused: let it say why
  }
  if (message === NOT_CANONICAL || !hasNoDuplicateKeys(payload, json, count.keys)) {
    return undefined;
  }
  return message as MessageShape<M>;
}

const PARSE_OPTIONS = { ignoreUnknownFields: true } as const;
/** protobuf-es's default recursion limit for JSON. */
const RECURSION_LIMIT = 100;
const NOT_CANONICAL = Symbol('not canonical proto3 JSON');

/** Reads a JSON value as a field's local value, or answers NOT_CANONICAL. */
type Read = (json: unknown, count: { keys: number }, depth: number) => unknown;

/**
 * Whether the text has no duplicate keys, given the parsed value has `keys` members in all.
 * Without a backslash in the text, every `"` opens or closes a string, and every `:` outside
 * strings separates a member's name from its value: the text has as many members as such
 * colons, and as many as the parsed value exactly when no key repeats. With a backslash, a
 * text that JSON.stringify writes back identically has no duplicates either.
 */
function hasNoDuplicateKeys(payload: string, json: unknown, keys: number): boolean {
  if (payload.indexOf('\\') !== -1) return JSON.stringify(json) === payload;
  let members = 0;
  let inString = false;
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i);
    if (c === 34 /* " */) inString = !inString;
    else if (c === 58 /* : */ && !inString) members += 1;
  }
  return members === keys;
}

const readers = new WeakMap<DescMessage, Read>();

function readerOf(desc: DescMessage): Read {
  const known = readers.get(desc);
  if (known) return known;
  // Well-known types have JSON forms of their own (a timestamp is a string): protobuf-es only.
  if (desc.typeName.startsWith('google.protobuf.')) return () => NOT_CANONICAL;
  const fields = new Map<string, { localName: string; read: Read }>();
  const read: Read = (json, count, depth) => {
    if (depth > RECURSION_LIMIT || typeof json !== 'object' || json === null) return NOT_CANONICAL;
    if (Array.isArray(json)) return NOT_CANONICAL;
    const message = create(desc) as unknown as Record<string, unknown>;
    const object = json as Record<string, unknown>;
    const keys = Object.keys(object);
    count.keys += keys.length;
    for (let i = 0; i < keys.length; i++) {
      const field = fields.get(keys[i]);
      if (field === undefined) return NOT_CANONICAL; // proto name, unknown field, extension
      const value = field.read(object[keys[i]], count, depth);
      if (value === NOT_CANONICAL) return NOT_CANONICAL;
      message[field.localName] = value;
    }
    return message;
  };
  // Registered before the fields are compiled: recursive types find this reader.
  readers.set(desc, read);
  for (const field of desc.fields) {
    const fieldRead = fieldReader(field);
    if (fieldRead) fields.set(field.jsonName, { localName: field.localName, read: fieldRead });
  }
  return read;
}

/** The reader of a field, or undefined when only `fromJsonString` reads it (oneofs, maps). */
function fieldReader(field: DescField): Read | undefined {
  if (field.fieldKind !== 'list' && field.oneof !== undefined) return undefined;
  switch (field.fieldKind) {
    case 'scalar':
      return scalarReader(field.scalar, field.longAsString);
    case 'enum':
      return enumReader(field.enum.typeName, field.enum.values);
    case 'message':
      return messageFieldReader(field.message);
    case 'list': {
      const item =
        field.listKind === 'scalar'
          ? scalarReader(field.scalar, field.longAsString)
          : field.listKind === 'enum'
            ? enumReader(field.enum.typeName, field.enum.values)
            : messageFieldReader(field.message);
      if (!item) return undefined;
      return (json, count, depth) => {
        if (!Array.isArray(json)) return NOT_CANONICAL;
        const items: unknown[] = new Array<unknown>(json.length);
        for (let i = 0; i < json.length; i++) {
          const value = item(json[i], count, depth);
          if (value === NOT_CANONICAL) return NOT_CANONICAL;
          items[i] = value;
        }
        return items;
      };
    }
    case 'map':
      return undefined;
  }
}

/** ES2024's String.prototype.isWellFormed (Node 20+), beyond this project's ES2023 typings. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const SIGNED_DIGITS = /^-?[0-9]+$/;
const DIGITS = /^[0-9]+$/;

function scalarReader(scalar: ScalarType, longAsString: boolean): Read | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      // protobuf-es refuses strings that are not well-formed UTF-16 (lone surrogates).
      return (json) =>
        typeof json === 'string' && (json as unknown as WellFormedCheck).isWellFormed()
          ? json
          : NOT_CANONICAL;
    case ScalarType.BOOL:
      return (json) => (typeof json === 'boolean' ? json : NOT_CANONICAL);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return (json) =>
        typeof json === 'number' && Number.isInteger(json) && json >= INT32_MIN && json <= INT32_MAX
          ? json
          : NOT_CANONICAL;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return (json) =>
        typeof json === 'number' && Number.isInteger(json) && json >= 0 && json <= UINT32_MAX
          ? json
          : NOT_CANONICAL;
    case ScalarType.DOUBLE:
      // JSON.parse yields finite numbers only; NaN and the infinities come as strings.
      return (json) => (typeof json === 'number' ? json : NOT_CANONICAL);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return (json) => {
        if (typeof json !== 'string' || !SIGNED_DIGITS.test(json)) return NOT_CANONICAL;
        const value = protoInt64.parse(json); // throws when out of range
        return longAsString ? json : value;
      };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return (json) => {
        if (typeof json !== 'string' || !DIGITS.test(json)) return NOT_CANONICAL;
        const value = protoInt64.uParse(json);
        return longAsString ? json : value;
      };
    case ScalarType.FLOAT: // range rules of its own
    case ScalarType.BYTES: // base64
      return undefined;
  }
}

function enumReader(
  typeName: string,
  values: readonly { name: string; jsonName?: string; number: number }[],
): Read | undefined {
  if (typeName === 'google.protobuf.NullValue') return undefined;
  // As protobuf-es: custom JSON names, then proto names (which take precedence).
  const numbers = new Map<string, number>();
  for (const value of values)
    if (value.jsonName !== undefined) numbers.set(value.jsonName, value.number);
  for (const value of values) numbers.set(value.name, value.number);
  return (json) => {
    if (typeof json !== 'string') return NOT_CANONICAL;
    return numbers.get(json) ?? NOT_CANONICAL; // unknown names: protobuf-es skips or refuses
  };
}

/** Well-known types whose JSON is a string and whose local value is the message itself. */
const STRING_WELL_KNOWN = new Set([
  'google.protobuf.Timestamp',
  'google.protobuf.Duration',
  'google.protobuf.FieldMask',
]);

function messageFieldReader(desc: DescMessage): Read | undefined {
  if (STRING_WELL_KNOWN.has(desc.typeName)) {
    // protobuf-es itself reads these (it throws on a bad value; parsePayload then falls back).
    // They count against the recursion limit as nested messages do.
    return (json, _count, depth) =>
      typeof json === 'string' && depth < RECURSION_LIMIT
        ? fromJson(desc, json as JsonValue)
        : NOT_CANONICAL;
  }
  // Other well-known types have JSON forms of their own, or local values that are not the
  // message (wrappers unwrap, Struct is a plain object).
  if (desc.typeName.startsWith('google.protobuf.')) return undefined;
  const read = readerOf(desc);
  return (json, count, depth) => read(json, count, depth + 1);
}
