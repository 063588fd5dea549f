import type { ComplianceConfig } from '../config';
import { ARCHIVE_INDEX } from './archive-index';
import { archiveIndexProviders } from './archive-index.providers';
import { ElasticsearchArchiveIndex } from './elasticsearch/elasticsearch-archive-index';
import { ElasticsearchIndexer } from './elasticsearch/elasticsearch-indexer';
import { PostgresArchiveIndex } from './postgres-archive-index';

const config = (values: Partial<ComplianceConfig>) =>
  ({ ARCHIVE_INDEX: 'postgres', ...values }) as ComplianceConfig;

describe('archiveIndexProviders', () => {
  it('runs the PostgreSQL index by default', () => {
    expect(archiveIndexProviders(config({}))).toEqual([
      { provide: ARCHIVE_INDEX, useClass: PostgresArchiveIndex },
    ]);
  });

  it('runs the Elasticsearch index and its indexer when configured', () => {
    const providers = archiveIndexProviders(
      config({
        ARCHIVE_INDEX: 'elasticsearch',
        ELASTICSEARCH_URL: 'https://es-1:9200,https://es-2:9200',
      }),
    );
    expect(providers).toContain(ElasticsearchArchiveIndex);
    expect(providers).toContain(ElasticsearchIndexer);
    expect(providers).toContainEqual({
      provide: ARCHIVE_INDEX,
      useExisting: ElasticsearchArchiveIndex,
    });
  });

  it('refuses Elasticsearch settings that cannot work', () => {
    for (const [values, message] of [
      [{}, /needs ELASTICSEARCH_URL/],
      [{ ELASTICSEARCH_URL: 'not a url' }, /needs ELASTICSEARCH_URL/],
      [{ ELASTICSEARCH_URL: 'https://es:9200', ELASTICSEARCH_USERNAME: 'qiwei' }, /go together/],
      [
        {
          ELASTICSEARCH_URL: 'https://es:9200',
          ELASTICSEARCH_USERNAME: 'qiwei',
          ELASTICSEARCH_PASSWORD: 'secret',
          ELASTICSEARCH_API_KEY: 'a2V5',
        },
        /not both/,
      ],
    ] as const) {
      expect(() =>
        archiveIndexProviders(config({ ARCHIVE_INDEX: 'elasticsearch', ...values })),
      ).toThrow(message);
    }
  });
});
