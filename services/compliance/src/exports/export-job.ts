import type { CorpId } from '@qiwei/persistence';
import type { ArchiveFilter } from '../search/archive-index';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed';

/**
 * What an export was made from: a search's filter, or (with legal matters) a matter turned into
 * the search filters that together select what it holds (`matterSearchFilters`); the export runs
 * each filter in turn and writes every record once.
 */
export type ExportSource = { kind: 'search' } | { kind: 'matter'; matterId: string };

export interface ExportJob {
  corpId: CorpId;
  id: string;
  requestedBy: string;
  source: ExportSource;
  filters: ArchiveFilter[];
  /** The officer's coverage when they asked (null: the whole corp). */
  coverage: number[] | null;
  formats: ExportFormat[];
  includeMedia: boolean;
  status: ExportStatus;
  filterIndex: number;
  cursor: string | null;
  chunks: number;
  records: number;
  attempts: number;
  error: string | null;
  objectKey: string | null;
  sha256: string | null;
  bytes: number | null;
  mediaFiles: number | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

type StoredFilter = Omit<ArchiveFilter, 'from' | 'to'> & { from?: string; to?: string };

export const storedFilter = (f: ArchiveFilter): StoredFilter => ({
  ...f,
  from: f.from?.toISOString(),
  to: f.to?.toISOString(),
});

const filterOf = (f: StoredFilter): ArchiveFilter => ({
  ...f,
  from: f.from ? new Date(f.from) : undefined,
  to: f.to ? new Date(f.to) : undefined,
});

export interface ExportJobRow {
  corp_id: string;
  id: string;
  requested_by: string;
  source: ExportSource;
  filters: StoredFilter[];
  coverage: number[] | null;
  formats: ExportFormat[];
  include_media: boolean;
  status: ExportStatus;
  filter_index: number;
  cursor: string | null;
  chunks: number;
  records: number;
  attempts: number;
  error: string | null;
  object_key: string | null;
  sha256: string | null;
  bytes: string | null;
  media_files: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

export const exportJobOf = (r: ExportJobRow): ExportJob => ({
  corpId: r.corp_id as CorpId,
  id: r.id,
  requestedBy: r.requested_by,
  source: r.source,
  filters: r.filters.map(filterOf),
  coverage: r.coverage,
  formats: r.formats,
  includeMedia: r.include_media,
  status: r.status,
  filterIndex: r.filter_index,
  cursor: r.cursor,
  chunks: r.chunks,
  records: r.records,
  attempts: r.attempts,
  error: r.error,
  objectKey: r.object_key,
  sha256: r.sha256,
  bytes: r.bytes === null ? null : Number(r.bytes),
  mediaFiles: r.media_files,
  createdAt: r.created_at,
  startedAt: r.started_at,
  completedAt: r.completed_at,
});

/** Where an export's pieces and its bundle live in EXPORT_BUCKET. */
export const exportKeys = (corpId: string, id: string) => ({
  prefix: `exports/${corpId}/${id}/`,
  part: (chunk: number, what: 'jsonl' | 'csv' | 'manifest') =>
    `exports/${corpId}/${id}/parts/${String(chunk).padStart(6, '0')}.${what}`,
  bundle: `exports/${corpId}/${id}/archive-export-${id}.zip`,
});
