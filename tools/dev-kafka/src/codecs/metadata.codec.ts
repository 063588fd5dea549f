import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';

export interface MetadataRequest {
  /** null means every topic. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface MetadataPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  replicaNodes: number[];
  isrNodes: number[];
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  partitions: MetadataPartition[];
}

export interface MetadataResponse {
  brokers: MetadataBroker[];
  clusterId: string;
  controllerId: number;
  topics: MetadataTopic[];
}

export function decodeMetadataRequest(r: Reader, version: number): MetadataRequest {
  let topics = r.nullableArray((x) => x.string());
  // v0 has no null: an empty list asks for every topic.
  if (version === 0 && topics !== null && topics.length === 0) topics = null;
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  return { topics, allowAutoTopicCreation };
}

export function encodeMetadataResponse(w: Writer, version: number, res: MetadataResponse): void {
  if (version >= 3) w.int32(0);
  w.array(res.brokers, (x, b) => {
    x.int32(b.nodeId).string(b.host).int32(b.port);
    if (version >= 1) x.nullableString(null);
  });
  if (version >= 2) w.nullableString(res.clusterId);
  if (version >= 1) w.int32(res.controllerId);
  w.array(res.topics, (x, t) => {
    x.int16(t.errorCode).string(t.name);
    if (version >= 1) x.bool(false);
    x.array(t.partitions, (y, p) => {
      y.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
      y.array(p.replicaNodes, (z, n) => z.int32(n));
      y.array(p.isrNodes, (z, n) => z.int32(n));
    });
  });
}
