import {
  create,
  createFileRegistry,
  equals,
  fromJsonString,
  ScalarType,
  toJsonString,
  type DescField,
  type DescMessage,
  type MessageShape,
} from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  timestampFromMs,
  TimestampSchema,
} from '@bufbuild/protobuf/wkt';
import { TOPIC_CATALOG } from '@qiwei/contracts';
import { parsePayload, readCanonicalPayload } from './payload';

/**
 * parsePayload must accept exactly what protobuf-es's fromJsonString accepts and yield the same
 * message. Checked differentially: random messages of every event schema in the catalog and of
 * a test message using every kind of field, written as publishers write them, then mangled in
 * the ways a payload can be wrong or merely unusual.
 */

// A test message with every kind of field, recursive, with a oneof, a map, an optional field.
const file = create(FileDescriptorProtoSchema, {
  name: 'qiwei/testing/v1/everything.proto',
  package: 'qiwei.testing.v1',
  syntax: 'proto3',
  dependency: ['google/protobuf/timestamp.proto'],
  enumType: [
    {
      name: 'Color',
      value: [
        { name: 'COLOR_UNSPECIFIED', number: 0 },
        { name: 'COLOR_RED', number: 1 },
        { name: 'COLOR_GREEN', number: 2 },
      ],
    },
  ],
  messageType: [
    {
      name: 'Everything',
      field: [
        { name: 'text', number: 1, type: Type.STRING },
        { name: 'flag', number: 2, type: Type.BOOL },
        { name: 'count', number: 3, type: Type.INT32 },
        { name: 'unsigned_count', number: 4, type: Type.UINT32 },
        { name: 'zigzag', number: 5, type: Type.SINT32 },
        { name: 'big', number: 6, type: Type.INT64 },
        { name: 'unsigned_big', number: 7, type: Type.UINT64 },
        { name: 'ratio', number: 8, type: Type.DOUBLE },
        { name: 'small_ratio', number: 9, type: Type.FLOAT },
        { name: 'blob', number: 10, type: Type.BYTES },
        { name: 'color', number: 11, type: Type.ENUM, typeName: '.qiwei.testing.v1.Color' },
        { name: 'at', number: 12, type: Type.MESSAGE, typeName: '.google.protobuf.Timestamp' },
        {
          name: 'child',
          number: 13,
          type: Type.MESSAGE,
          typeName: '.qiwei.testing.v1.Everything',
        },
        { name: 'texts', number: 14, type: Type.STRING, label: Label.REPEATED },
        { name: 'counts', number: 15, type: Type.INT32, label: Label.REPEATED },
        {
          name: 'colors',
          number: 16,
          type: Type.ENUM,
          typeName: '.qiwei.testing.v1.Color',
          label: Label.REPEATED,
        },
        {
          name: 'children',
          number: 17,
          type: Type.MESSAGE,
          typeName: '.qiwei.testing.v1.Everything',
          label: Label.REPEATED,
        },
        {
          name: 'scores',
          number: 18,
          type: Type.MESSAGE,
          typeName: '.qiwei.testing.v1.Everything.ScoresEntry',
          label: Label.REPEATED,
        },
        { name: 'choice_text', number: 19, type: Type.STRING, oneofIndex: 0 },
        { name: 'choice_count', number: 20, type: Type.INT32, oneofIndex: 0 },
        { name: 'maybe', number: 21, type: Type.INT32, oneofIndex: 1, proto3Optional: true },
        { name: 'big_text', number: 22, type: Type.INT64, options: { jstype: 1 } },
        {
          name: 'moments',
          number: 23,
          type: Type.MESSAGE,
          typeName: '.google.protobuf.Timestamp',
          label: Label.REPEATED,
        },
        { name: 'fixed_big', number: 24, type: Type.SFIXED64 },
        { name: 'fixed_count', number: 25, type: Type.FIXED32 },
        { name: 'bigs', number: 26, type: Type.INT64, label: Label.REPEATED },
      ],
      oneofDecl: [{ name: 'choice' }, { name: '_maybe' }],
      nestedType: [
        {
          name: 'ScoresEntry',
          field: [
            { name: 'key', number: 1, type: Type.STRING },
            { name: 'value', number: 2, type: Type.INT32 },
          ],
          options: { mapEntry: true },
        },
      ],
    },
  ],
});
const registry = createFileRegistry(file, (name) =>
  name === 'google/protobuf/timestamp.proto' ? TimestampSchema.file : undefined,
);
const Everything = registry.getMessage('qiwei.testing.v1.Everything') as DescMessage;

// A seeded generator: the same cases on every run.
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

const TEXTS = [
  '',
  'a',
  '华东区销售部',
  'x:y',
  'say "hi"',
  'back\\slash',
  'line\nbreak',
  '😀',
  '{"k":1}',
];

function randomScalar(r: Random, field: DescField & { scalar: ScalarType }): unknown {
  const long = (field as { longAsString?: boolean }).longAsString === true;
  switch (field.scalar) {
    case ScalarType.STRING:
      return r.pick(TEXTS) + (r.int(2) ? String(r.int(1000)) : '');
    case ScalarType.BOOL:
      return r.int(2) === 1;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return r.pick([0, 1, -1, 2147483647, -2147483648, r.int(100000) - 50000]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return r.pick([0, 1, 4294967295, r.int(100000)]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      const value = r.pick([0n, -1n, 9223372036854775807n, -9223372036854775808n, 48213n]);
      return long ? String(value) : value;
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      const value = r.pick([0n, 18446744073709551615n, 7n]);
      return long ? String(value) : value;
    }
    case ScalarType.DOUBLE:
      return r.pick([0, 1.5, -2.25e-10, 1e300, 123456789]);
    case ScalarType.FLOAT:
      return r.pick([0, 1.5, -3.25]);
    case ScalarType.BYTES:
      return new Uint8Array([r.int(256), r.int(256)]);
  }
}

/** A random message of `desc`, as an init object for create(). */
function randomInit(r: Random, desc: DescMessage, depth: number): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  if (desc.typeName === 'google.protobuf.Timestamp') {
    return timestampFromMs(r.pick([0, 1_735_689_600_123, 1_000]));
  }
  for (const member of desc.members) {
    if (r.int(3) === 0) continue; // absent
    if (member.kind === 'oneof') {
      const field = r.pick(member.fields);
      init[member.localName] = { case: field.localName, value: randomField(r, field, depth) };
      continue;
    }
    const value = randomField(r, member, depth);
    if (value !== undefined) init[member.localName] = value;
  }
  return init;
}

function randomField(r: Random, field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      return randomScalar(r, field);
    case 'enum':
      return r.pick(field.enum.values).number;
    case 'message':
      return depth > 2 ? undefined : randomInit(r, field.message, depth + 1);
    case 'list': {
      const n = depth > 2 && field.listKind === 'message' ? 0 : r.int(4);
      return Array.from({ length: n }, () =>
        field.listKind === 'scalar'
          ? randomScalar(r, field as unknown as DescField & { scalar: ScalarType })
          : field.listKind === 'enum'
            ? r.pick(field.enum.values).number
            : randomInit(r, field.message, depth + 1),
      );
    }
    case 'map':
      return Object.fromEntries(
        Array.from({ length: r.int(3) }, (_, i) => [`k${i}`, r.int(100) - 50]),
      );
  }
}

/** Mangled and unusual variants of a payload text: valid or not, protobuf-es decides. */
function variants(r: Random, desc: DescMessage, text: string): string[] {
  const out = [text, JSON.stringify(JSON.parse(text), null, 2)];
  const json = JSON.parse(text) as Record<string, unknown>;
  const keys = Object.keys(json);
  const mutate = (change: (copy: Record<string, unknown>, key: string) => void) => {
    if (keys.length === 0) return;
    const copy = JSON.parse(text) as Record<string, unknown>;
    change(copy, r.pick(keys));
    out.push(JSON.stringify(copy));
  };
  mutate((copy, key) => (copy[key] = null));
  mutate((copy, key) => (copy[key] = '7'));
  mutate((copy, key) => (copy[key] = 7));
  mutate((copy, key) => (copy[key] = 1.5));
  mutate((copy, key) => (copy[key] = 2147483648));
  mutate((copy, key) => (copy[key] = -1));
  mutate((copy, key) => (copy[key] = true));
  mutate((copy, key) => (copy[key] = []));
  mutate((copy, key) => (copy[key] = [null]));
  mutate((copy, key) => (copy[key] = {}));
  mutate((copy, key) => (copy[key] = 'COLOR_RED'));
  mutate((copy, key) => (copy[key] = 'NOT_A_VALUE'));
  mutate((copy, key) => (copy[key] = '1e3'));
  mutate((copy, key) => (copy[key] = '2025-01-20T09:00:00Z'));
  mutate((copy, key) => (copy[key] = 'yesterday'));
  mutate((copy, key) => (copy[key] = '9223372036854775808'));
  mutate((copy, key) => (copy[key] = '\ud800'));
  mutate((copy) => (copy.addedLater = { nested: [1, { deep: true }] }));
  mutate((copy, key) => {
    // The proto name instead of the JSON name.
    const field = desc.fields.find((f) => f.jsonName === key);
    if (field && field.name !== key) {
      copy[field.name] = copy[key];
      delete copy[key];
    }
  });
  mutate((copy, key) => {
    const field = desc.fields.find((f) => f.jsonName === key);
    if (field) copy[field.name] = copy[key]; // both names: set twice
  });
  // Duplicate keys, which JSON.parse would silently merge, at the top and nested.
  if (keys.length > 0) {
    const key = r.pick(keys);
    out.push(`{${JSON.stringify(key)}:${JSON.stringify(json[key])},${text.slice(1)}`);
    out.push(`{ ${JSON.stringify(key)} : 1 , ${text.slice(1)}`);
  }
  const nested = text.indexOf('{', 1);
  if (nested > 0)
    out.push(`${text.slice(0, nested + 1)}"text":"a","text":"b",${text.slice(nested + 1)}`);
  out.push(text.replace(/"([a-zA-Z]+)":/, '"$1" :')); // whitespace outside strings
  out.push(text.replace(/":"/, '":"\\u0041')); // an escape in a string
  out.push(`[${text}]`, 'null', '"text"', '{}', `${text} `);
  return out;
}

function outcome<M extends DescMessage>(read: () => MessageShape<M>) {
  try {
    return { message: read() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function expectSameAsProtobufEs(desc: DescMessage, text: string): boolean {
  const ours = outcome(() => parsePayload(desc, text));
  const theirs = outcome(() => fromJsonString(desc, text, { ignoreUnknownFields: true }));
  if (theirs.error !== undefined) {
    expect({ text, error: ours.error }).toEqual({ text, error: theirs.error });
    return false;
  }
  expect({ text, error: ours.error }).toEqual({ text, error: undefined });
  expect(equals(desc, ours.message as never, theirs.message as never)).toBe(true);
  expect(ours.message).toEqual(theirs.message);
  return true;
}

const schemas = [
  Everything,
  ...new Set(TOPIC_CATALOG.flatMap((topic) => topic.events.map((event) => event.schema))),
];

describe('event payloads (proto3 JSON) read as protobuf-es reads them', () => {
  it.each(schemas.map((schema) => [schema.typeName, schema] as const))(
    'reads %s exactly as fromJsonString, valid or not',
    (_name, schema) => {
      const r = random(schema.typeName.length * 7919);
      let accepted = 0;
      let refused = 0;
      let canonical = 0;
      for (let i = 0; i < 40; i++) {
        const message = create(schema, randomInit(r, schema, 0) as never);
        const text = toJsonString(schema, message, { alwaysEmitImplicit: r.int(2) === 1 });
        if (readCanonicalPayload(schema, text)) canonical += 1;
        for (const variant of variants(r, schema, text)) {
          if (expectSameAsProtobufEs(schema, variant)) accepted += 1;
          else refused += 1;
        }
      }
      // Both sides of the contract were exercised.
      expect(accepted).toBeGreaterThan(40);
      expect(refused).toBeGreaterThan(40);
      // What publishers write takes the fast path: always for the catalog's events (their
      // fields are all of the kinds it reads), sometimes for the test message (not when a
      // float, bytes, a map or a oneof is set).
      if (schema === Everything) expect(canonical).toBeGreaterThan(0);
      else expect(canonical).toBe(40);
    },
  );

  it('refuses a string with a lone surrogate and deeper nesting than protobuf-es allows', () => {
    expect(() => parsePayload(Everything, '{"text":"\\ud800"}')).toThrow(/UTF/);
    let deep = '{"count":1}';
    for (let i = 0; i < 101; i++) deep = `{"child":${deep}}`;
    expect(() => parsePayload(Everything, deep)).toThrow(/recursion/);
  });
});
