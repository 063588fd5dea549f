export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  DeleteGroups: 42,
} as const;

export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

export interface ApiVersionRange {
  apiKey: ApiKey;
  minVersion: number;
  maxVersion: number;
}

/**
 * Every range starts at 0 because librdkafka 2.0 enables features only when the broker's range
 * overlaps old versions; maxima are the last non-flexible versions that kafkajs 2.2 and
 * librdkafka 2.0 both pick, so only ApiVersions v3 ever needs the flexible encoding.
 */
export const SUPPORTED_APIS: readonly ApiVersionRange[] = [
  { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 7 },
  { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 11 },
  { apiKey: ApiKey.ListOffsets, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.OffsetCommit, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.OffsetFetch, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.JoinGroup, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.LeaveGroup, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.SyncGroup, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.DescribeGroups, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.ListGroups, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.CreateTopics, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.DeleteTopics, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.DeleteGroups, minVersion: 0, maxVersion: 1 },
];

export function isSupported(apiKey: number, version: number): boolean {
  return SUPPORTED_APIS.some(
    (r) => r.apiKey === apiKey && version >= r.minVersion && version <= r.maxVersion,
  );
}

/**
 * The one flexible version we parse: its request header carries a tagged-field section. Newer
 * ApiVersions versions are answered from the header alone, so their tags are never read.
 */
export function usesFlexibleRequestHeader(apiKey: number, version: number): boolean {
  return apiKey === ApiKey.ApiVersions && version === 3;
}
