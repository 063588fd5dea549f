import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  create,
  createFileRegistry,
  fromBinary,
  toJson,
  type DescMessage,
  type JsonValue,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { REPO_ROOT } from '@qiwei/testing';
import { collectMessageSchemas, messageJsonSchema } from '../src/proto-json-schema';
import { validateJsonSchema } from './support/validate-json-schema';

const run = promisify(execFile);

/** Compiles test/fixtures with buf, as the real schemas are, and loads Everything from it. */
async function loadFixture(): Promise<{ everything: DescMessage; leaf: DescMessage }> {
  const dir = await mkdtemp(join(tmpdir(), 'asyncapi-fixture-'));
  try {
    const image = join(dir, 'fixture.binpb');
    await run(
      join(REPO_ROOT, 'node_modules/.bin/buf'),
      ['build', 'tools/asyncapi/test/fixtures', '-o', image],
      { cwd: REPO_ROOT },
    );
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, await readFile(image)));
    const everything = registry.getMessage('qiwei.fixture.v1.Everything');
    const leaf = registry.getMessage('qiwei.fixture.v1.Leaf');
    if (!everything || !leaf) throw new Error('fixture messages missing from the buf image');
    return { everything, leaf };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('payload JSON Schema from a proto descriptor (proto3 JSON mapping)', () => {
  let everything: DescMessage;
  let leaf: DescMessage;
  beforeAll(async () => {
    ({ everything, leaf } = await loadFixture());
  });

  it('maps every kind of field to the JSON the proto3 mapping writes', () => {
    const properties = messageJsonSchema(everything).properties ?? {};
    const int32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
    const int64 = { type: 'string', pattern: '^-?[0-9]+$' };
    expect(properties).toMatchObject({
      smallCount: int32,
      signedCount: int32,
      unsignedCount: { type: 'integer', minimum: 0, maximum: 4294967295 },
      bigCount: int64,
      unsignedBigCount: { type: 'string', pattern: '^[0-9]+$' },
      fixedBigCount: { type: 'string', pattern: '^[0-9]+$' },
      ratio: { anyOf: [{ type: 'number' }, { type: 'string' }] },
      weight: { anyOf: [{ type: 'number' }, { type: 'string' }] },
      active: { type: 'boolean' },
      label: { type: 'string' },
      blob: { type: 'string', contentEncoding: 'base64' },
      colour: { type: 'string', enum: ['COLOUR_UNSPECIFIED', 'COLOUR_RED', 'COLOUR_GREEN'] },
      tags: { type: 'array', items: { type: 'string' } },
      counts: { type: 'object', additionalProperties: int64 },
      nickname: { type: 'string' },
      userId: { type: 'string' },
      departmentId: int32,
      happenedAt: { type: 'string', format: 'date-time' },
      took: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' },
      note: { type: 'string' },
      child: { $ref: '#/components/schemas/qiwei.fixture.v1.Everything' },
      leaves: { type: 'array', items: { $ref: '#/components/schemas/qiwei.fixture.v1.Leaf' } },
      leafByName: {
        type: 'object',
        additionalProperties: { $ref: '#/components/schemas/qiwei.fixture.v1.Leaf' },
      },
      palette: { type: 'array', items: { type: 'string', enum: expect.any(Array) } },
    });
    // Properties follow field numbers, as in the .proto file.
    expect(Object.keys(properties)).toEqual(
      [...everything.fields].sort((a, b) => a.number - b.number).map((f) => f.jsonName),
    );
  });

  it('requires the fields producers always write and not optional, oneof or singular message fields', () => {
    const { required } = messageJsonSchema(everything);
    expect(required).toEqual([
      'smallCount',
      'signedCount',
      'unsignedCount',
      'bigCount',
      'unsignedBigCount',
      'fixedBigCount',
      'ratio',
      'weight',
      'active',
      'label',
      'blob',
      'colour',
      'tags',
      'counts',
      'leaves',
      'leafByName',
      'palette',
    ]);
  });

  it('describes each referenced message once, well-known types inline', () => {
    const schemas = collectMessageSchemas([everything, leaf, everything]);
    expect(Object.keys(schemas)).toEqual(['qiwei.fixture.v1.Everything', 'qiwei.fixture.v1.Leaf']);
  });

  it('accepts what toJson writes for a full and for an empty message, and rejects other JSON', () => {
    const schemas = collectMessageSchemas([everything]);
    const root = { $ref: '#/components/schemas/qiwei.fixture.v1.Everything' };
    const full = create(everything, {
      smallCount: -5,
      signedCount: 7,
      unsignedCount: 4000000000,
      bigCount: -9007199254740993n,
      unsignedBigCount: 18446744073709551615n,
      fixedBigCount: 1n,
      ratio: Number.NaN,
      weight: 1.5,
      active: true,
      label: '研发部',
      blob: new Uint8Array([0, 1, 254, 255]),
      colour: 2,
      tags: ['a', 'b'],
      counts: { x: 3n },
      nickname: 'n',
      target: { case: 'departmentId', value: 12 },
      happenedAt: { seconds: 1700000000n, nanos: 5000 },
      took: { seconds: 3n, nanos: 500000000 },
      note: 'wrapped',
      child: { label: 'nested', leaves: [{ name: 'deep' }] },
      leaves: [{ name: 'one' }],
      leafByName: { first: { name: 'first' } },
      palette: [1, 2],
    });
    const fullJson: JsonValue = toJson(everything, full, { alwaysEmitImplicit: true });
    expect(validateJsonSchema(fullJson, root, schemas)).toEqual([]);

    const emptyJson = toJson(everything, create(everything), { alwaysEmitImplicit: true });
    expect(validateJsonSchema(emptyJson, root, schemas)).toEqual([]);

    // Without alwaysEmitImplicit the defaults would be missing: the contract needs the option.
    expect(validateJsonSchema(toJson(everything, create(everything)), root, schemas)).toContain(
      '$: missing required smallCount',
    );
    const wrong = { ...(fullJson as Record<string, JsonValue>), bigCount: 5, colour: 2 };
    expect(validateJsonSchema(wrong, root, schemas)).toEqual([
      '$.bigCount: expected string, got 5',
      '$.colour: expected string, got 2',
    ]);
  });
});
