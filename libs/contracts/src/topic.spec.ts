import { DepartmentCreatedSchema } from './gen/qiwei/identity/v1/department_pb';
import { defineTopic, type TopicDefinition } from './topic';
import { TOPIC_CATALOG } from './index';

const base: TopicDefinition = {
  name: 'qiwei.identity.department.v1',
  publisher: 'identity',
  summary: 's',
  key: 'k',
  partitions: 3,
  retentionMs: -1,
  events: [
    { type: 'qiwei.identity.department.created.v1', schema: DepartmentCreatedSchema, summary: 's' },
  ],
};

describe('topic definitions', () => {
  it('accepts the conventions of DESIGN.md', () => {
    expect(defineTopic(base)).toBe(base);
  });

  it.each([
    ['a bad topic name', { name: 'identity.department' }, /qiwei.<service>/],
    ['another publisher', { publisher: 'messaging' }, /published by identity/],
    ['no partitions', { partitions: 0 }, /partition/],
    ['no events', { events: [] }, /no event types/],
    [
      'an event of another aggregate',
      {
        events: [
          {
            type: 'qiwei.identity.member.created.v1',
            schema: DepartmentCreatedSchema,
            summary: 's',
          },
        ],
      },
      /qiwei.identity.department/,
    ],
    [
      'an event of another major version',
      {
        events: [
          {
            type: 'qiwei.identity.department.created.v2',
            schema: DepartmentCreatedSchema,
            summary: 's',
          },
        ],
      },
      /v1/,
    ],
    ['a duplicated event type', { events: [base.events[0], base.events[0]] }, /twice/],
  ])('refuses %s', (_name, patch, message) => {
    expect(() => defineTopic({ ...base, ...patch })).toThrow(message);
  });

  it('lists each topic of the catalog once', () => {
    const names = TOPIC_CATALOG.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['qiwei.identity.corp.v1', 'qiwei.identity.department.v1']),
    );
  });
});
