import type { Provider } from '@nestjs/common';
import type { ComplianceConfig } from '../config';
import { ARCHIVE_INDEX } from './archive-index';
import { checkArchiveIndexConfig } from './archive-index.config';
import {
  ELASTICSEARCH_CLIENT,
  ElasticsearchArchiveIndex,
  elasticsearchClient,
} from './elasticsearch/elasticsearch-archive-index';
import { ElasticsearchIndexer } from './elasticsearch/elasticsearch-indexer';
import { PostgresArchiveIndex } from './postgres-archive-index';

/** The ArchiveIndex the configuration selects (ARCHIVE_INDEX), with what it needs. */
export function archiveIndexProviders(config: ComplianceConfig): Provider[] {
  checkArchiveIndexConfig(config);
  if (config.ARCHIVE_INDEX === 'elasticsearch') {
    return [
      { provide: ELASTICSEARCH_CLIENT, useFactory: () => elasticsearchClient(config) },
      ElasticsearchArchiveIndex,
      ElasticsearchIndexer,
      { provide: ARCHIVE_INDEX, useExisting: ElasticsearchArchiveIndex },
    ];
  }
  return [{ provide: ARCHIVE_INDEX, useClass: PostgresArchiveIndex }];
}
