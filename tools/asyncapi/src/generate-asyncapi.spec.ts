import { TOPIC_CATALOG } from '@qiwei/contracts';
import { buildAsyncApiDocument, renderAsyncApiYaml } from './generate-asyncapi';

describe('buildAsyncApiDocument', () => {
  const options = { version: '1.2.3' };

  it('writes the same YAML whatever the order of the catalog', () => {
    const forward = renderAsyncApiYaml(buildAsyncApiDocument(TOPIC_CATALOG, options));
    const reversed = renderAsyncApiYaml(
      buildAsyncApiDocument([...TOPIC_CATALOG].reverse(), options),
    );
    expect(reversed).toBe(forward);
  });

  it('writes every object out in full, without YAML anchors or aliases', () => {
    const yaml = renderAsyncApiYaml(buildAsyncApiDocument(TOPIC_CATALOG, options));
    expect(yaml).not.toMatch(/[&*]a\d+\b/);
  });

  it('names messages for people and dead letters for what they are', () => {
    const { components, channels } = buildAsyncApiDocument(TOPIC_CATALOG, options);
    expect(components.messages['qiwei.identity.department.moved.v1']?.title).toBe(
      'Department moved (v1)',
    );
    expect(components.messages['qiwei.identity.department.moved.v1.dlq']).toMatchObject({
      name: 'qiwei.identity.department.moved.v1.dlq',
      title: 'Department moved (v1), dead-lettered',
      payload: { $ref: '#/components/schemas/qiwei.identity.v1.DepartmentMoved' },
    });
    expect(channels['qiwei.identity.department.v1.dlq']?.bindings.kafka).toEqual({
      partitions: 6,
      topicConfiguration: { 'retention.ms': -1 },
      bindingVersion: '0.5.0',
    });
  });
});
