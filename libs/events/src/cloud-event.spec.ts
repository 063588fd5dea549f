import { create } from '@bufbuild/protobuf';
import { defineTopic, DepartmentCreatedSchema, DepartmentSchema } from '@qiwei/contracts';
import { decodeEvent, encodeEvent, type RawRecord } from './cloud-event';
import { PoisonMessageError } from './errors';
import { laneOf } from './outbox/lanes';

const topic = defineTopic({
  name: 'qiwei.testing.unit.v1',
  publisher: 'testing',
  summary: 's',
  key: 'k',
  partitions: 1,
  retentionMs: -1,
  events: [
    { type: 'qiwei.testing.unit.created.v1', schema: DepartmentCreatedSchema, summary: 's' },
  ],
});

const encoded = encodeEvent(topic, '/qiwei/testing', {
  type: 'qiwei.testing.unit.created.v1',
  tenant: 'ww0123456789abcdef',
  subject: 'department/2',
  key: 'ww0123456789abcdef',
  data: {
    department: create(DepartmentSchema, {
      corpId: 'ww0123456789abcdef',
      id: 2,
      name: '销售部',
      order: 0,
    }),
  },
});
const record = (patch: Partial<RawRecord> = {}): RawRecord => ({
  topic: topic.name,
  partition: 0,
  offset: '5',
  key: Buffer.from(encoded.key),
  value: Buffer.from(encoded.value),
  headers: encoded.headers,
  ...patch,
});

describe('CloudEvents on Kafka', () => {
  it('round-trips an event through headers and a proto3 JSON value, defaults included', () => {
    expect(JSON.parse(encoded.value)).toMatchObject({
      department: { id: 2, name: '销售部', order: 0, depth: 0 },
    });
    const event = decodeEvent(topic, record());
    expect(event).toMatchObject({
      id: encoded.id,
      type: 'qiwei.testing.unit.created.v1',
      source: '/qiwei/testing',
      tenant: 'ww0123456789abcdef',
      subject: 'department/2',
      key: 'ww0123456789abcdef',
      dataschema: 'qiwei.identity.v1.DepartmentCreated',
      offset: '5',
    });
    expect(event.data).toMatchObject({ department: { id: 2, name: '销售部' } });
  });

  it('tolerates fields from a newer schema version', () => {
    const newer = JSON.stringify({ ...JSON.parse(encoded.value), addedLater: true });
    expect(() => decodeEvent(topic, record({ value: Buffer.from(newer) }))).not.toThrow();
  });

  it('reads payloads written in any valid proto3 JSON form, not only the compact one', () => {
    const spaced = JSON.stringify(JSON.parse(encoded.value), null, 2);
    // Original field names and int32 as a string are proto3 JSON too.
    const other = '{"department":{"corp_id":"ww0123456789abcdef","id":"2","name":"销售部"}}';
    for (const text of [spaced, other]) {
      const event = decodeEvent(topic, record({ value: Buffer.from(text) }));
      expect(event.data).toMatchObject({
        department: { corpId: 'ww0123456789abcdef', id: 2, name: '销售部' },
      });
    }
  });

  it.each([
    ['a missing id', { headers: { ...encoded.headers, ce_id: undefined } }, /ce_id/],
    [
      'another spec version',
      { headers: { ...encoded.headers, ce_specversion: '0.3' } },
      /specversion/,
    ],
    [
      'an undeclared type',
      { headers: { ...encoded.headers, ce_type: 'qiwei.testing.unit.vanished.v1' } },
      /not declared/,
    ],
    [
      'a mismatched schema',
      { headers: { ...encoded.headers, ce_dataschema: 'qiwei.other.v1.Thing' } },
      /ce_dataschema/,
    ],
    ['a bad time', { headers: { ...encoded.headers, ce_time: 'yesterday' } }, /ce_time/],
    ['an empty value', { value: null }, /empty payload/],
    [
      'a value of the wrong shape',
      { value: Buffer.from('{"department":{"id":"two"}}') },
      /not a valid/,
    ],
    ['a value that is not JSON', { value: Buffer.from('<xml/>') }, /not a valid/],
    [
      'a value with a duplicate key',
      { value: Buffer.from('{"department":{"id":2,"id":3}}') },
      /not a valid.*duplicate/,
    ],
    [
      'a value with a duplicate key, spaced out',
      { value: Buffer.from('{ "department": { "id": 2 }, "department": { "id": 3 } }') },
      /not a valid.*duplicate/,
    ],
    ['a value that is a JSON array', { value: Buffer.from('[1,2]') }, /not a valid/],
    [
      'a value with a string for a number',
      { value: Buffer.from('{"department":{"order":"x"}}') },
      /not a valid/,
    ],
  ])('refuses %s as poison', (_name, patch, message) => {
    expect(() => decodeEvent(topic, record(patch as Partial<RawRecord>))).toThrow(
      PoisonMessageError,
    );
    expect(() => decodeEvent(topic, record(patch as Partial<RawRecord>))).toThrow(message);
  });

  it('keeps a key in the same outbox lane, and spreads keys over lanes', () => {
    expect(laneOf('ww0123456789abcdef', 4)).toBe(laneOf('ww0123456789abcdef', 4));
    const lanes = new Set(
      Array.from({ length: 200 }, (_, i) => laneOf(`ww${i.toString(16).padStart(16, '0')}`, 4)),
    );
    expect(lanes).toEqual(new Set([0, 1, 2, 3]));
  });
});
