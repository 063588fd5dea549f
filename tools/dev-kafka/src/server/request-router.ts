import { decodeApiVersionsRequest, encodeApiVersionsResponse } from '../codecs/api-versions.codec';
import {
  decodeCreateTopicsRequest,
  encodeCreateTopicsResponse,
} from '../codecs/create-topics.codec';
import {
  decodeDeleteGroupsRequest,
  encodeDeleteGroupsResponse,
} from '../codecs/delete-groups.codec';
import {
  decodeDeleteTopicsRequest,
  encodeDeleteTopicsResponse,
} from '../codecs/delete-topics.codec';
import {
  decodeDescribeGroupsRequest,
  encodeDescribeGroupsResponse,
} from '../codecs/describe-groups.codec';
import { decodeFetchRequest, encodeFetchResponse } from '../codecs/fetch.codec';
import {
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
} from '../codecs/find-coordinator.codec';
import { decodeHeartbeatRequest, encodeErrorOnlyResponse } from '../codecs/heartbeat.codec';
import {
  decodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
} from '../codecs/init-producer-id.codec';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from '../codecs/join-group.codec';
import { decodeLeaveGroupRequest } from '../codecs/leave-group.codec';
import { encodeListGroupsResponse } from '../codecs/list-groups.codec';
import {
  decodeListOffsetsRequest,
  encodeListOffsetsResponse,
  ListOffsetsPartitionResponse,
} from '../codecs/list-offsets.codec';
import {
  decodeMetadataRequest,
  encodeMetadataResponse,
  MetadataTopic,
} from '../codecs/metadata.codec';
import {
  decodeOffsetCommitRequest,
  encodeOffsetCommitResponse,
} from '../codecs/offset-commit.codec';
import { decodeOffsetFetchRequest, encodeOffsetFetchResponse } from '../codecs/offset-fetch.codec';
import {
  decodeProduceRequest,
  encodeProduceResponse,
  ProducePartitionResponse,
} from '../codecs/produce.codec';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from '../codecs/sync-group.codec';
import { DevKafkaConfig } from '../config';
import { GroupCoordinator } from '../coordinator/group-coordinator';
import { ApiKey, isSupported, SUPPORTED_APIS } from '../protocol/api-keys';
import { ErrorCode } from '../protocol/error-codes';
import { Reader } from '../protocol/reader';
import { decodeRequestHeader, RequestHeader } from '../protocol/request-header';
import { Writer } from '../protocol/writer';
import { PartitionLog } from '../storage/partition-log';
import { isValidTopicName, TopicStore } from '../storage/topic-store';
import { FetchHandler } from './fetch-handler';

export const NODE_ID = 0;
const CLUSTER_ID = 'qiwei-dev-kafka';
const KAFKA_STORAGE_ERROR = 56;

type Reply = Buffer | null | Promise<Buffer | null>;

/** Decodes one request, runs it against storage/coordinator, and encodes the response frame. */
export class RequestRouter {
  private nextProducerId = Date.now() % 1_000_000_000;

  constructor(
    private readonly config: DevKafkaConfig,
    private readonly port: () => number,
    private readonly topics: TopicStore,
    private readonly groups: GroupCoordinator,
    private readonly fetches: FetchHandler,
  ) {}

  handle(frame: Buffer, clientHost: string): Reply {
    const r = new Reader(frame);
    const h = decodeRequestHeader(r);
    const v = h.apiVersion;
    if (!isSupported(h.apiKey, v)) {
      return respond(h, (w) => {
        // ApiVersions answers in v0 shape with the list, so the client can fall back (KIP-511).
        if (h.apiKey === ApiKey.ApiVersions)
          encodeApiVersionsResponse(w, 0, {
            errorCode: ErrorCode.UNSUPPORTED_VERSION,
            apiKeys: SUPPORTED_APIS,
          });
        else w.int16(ErrorCode.UNSUPPORTED_VERSION);
      });
    }
    switch (h.apiKey) {
      case ApiKey.ApiVersions:
        decodeApiVersionsRequest(r, v);
        return respond(h, (w) =>
          encodeApiVersionsResponse(w, v, { errorCode: ErrorCode.NONE, apiKeys: SUPPORTED_APIS }),
        );
      case ApiKey.Metadata:
        return this.metadata(h, r);
      case ApiKey.Produce:
        return this.produce(h, r);
      case ApiKey.Fetch: {
        const req = decodeFetchRequest(r, v);
        const res = this.fetches.fetch(req, v);
        const encode = (x: Awaited<typeof res>): Buffer =>
          respond(
            h,
            (w) => encodeFetchResponse(w, v, x),
            x.topics.reduce(
              (n, t) => n + t.partitions.reduce((m, p) => m + p.records.length, 64),
              64,
            ),
          );
        return res instanceof Promise ? res.then(encode) : encode(res);
      }
      case ApiKey.ListOffsets:
        return this.listOffsets(h, r);
      case ApiKey.CreateTopics:
        return this.createTopics(h, r);
      case ApiKey.DeleteTopics:
        return this.deleteTopics(h, r);
      case ApiKey.FindCoordinator: {
        decodeFindCoordinatorRequest(r, v);
        return respond(h, (w) =>
          encodeFindCoordinatorResponse(w, v, {
            errorCode: ErrorCode.NONE,
            nodeId: NODE_ID,
            host: this.config.advertisedHost,
            port: this.port(),
          }),
        );
      }
      case ApiKey.JoinGroup: {
        const req = decodeJoinGroupRequest(r, v);
        return this.groups
          .joinGroup({ ...req, apiVersion: v, clientId: h.clientId ?? '', clientHost })
          .then((res) => respond(h, (w) => encodeJoinGroupResponse(w, v, res)));
      }
      case ApiKey.SyncGroup: {
        const req = decodeSyncGroupRequest(r, v);
        return this.groups
          .syncGroup(req)
          .then((res) => respond(h, (w) => encodeSyncGroupResponse(w, v, res)));
      }
      case ApiKey.Heartbeat: {
        const req = decodeHeartbeatRequest(r, v);
        const errorCode = this.groups.heartbeat(req.groupId, req.memberId, req.generationId);
        return respond(h, (w) => encodeErrorOnlyResponse(w, v, errorCode));
      }
      case ApiKey.LeaveGroup: {
        const req = decodeLeaveGroupRequest(r);
        const errorCode = this.groups.leaveGroup(req.groupId, req.memberId);
        return respond(h, (w) => encodeErrorOnlyResponse(w, v, errorCode));
      }
      case ApiKey.OffsetCommit: {
        const req = decodeOffsetCommitRequest(r, v);
        return this.groups
          .commitOffsets(req)
          .then((res) => respond(h, (w) => encodeOffsetCommitResponse(w, v, res)));
      }
      case ApiKey.OffsetFetch: {
        const req = decodeOffsetFetchRequest(r);
        const res = this.groups.fetchOffsets(req);
        return respond(h, (w) => encodeOffsetFetchResponse(w, v, res));
      }
      case ApiKey.DescribeGroups: {
        const groups = this.groups.describeGroups(decodeDescribeGroupsRequest(r));
        return respond(h, (w) => encodeDescribeGroupsResponse(w, v, groups));
      }
      case ApiKey.ListGroups:
        return respond(h, (w) => encodeListGroupsResponse(w, v, this.groups.listGroups()));
      case ApiKey.DeleteGroups: {
        const ids = decodeDeleteGroupsRequest(r);
        return this.groups
          .deleteGroups(ids)
          .then((results) => respond(h, (w) => encodeDeleteGroupsResponse(w, results)));
      }
      case ApiKey.InitProducerId: {
        const req = decodeInitProducerIdRequest(r);
        // Transactions are out of scope; a plain idempotent producer only needs a fresh id.
        const res =
          req.transactionalId === null
            ? { errorCode: ErrorCode.NONE, producerId: this.nextProducerId++, producerEpoch: 0 }
            : { errorCode: ErrorCode.UNSUPPORTED_VERSION, producerId: -1, producerEpoch: -1 };
        return respond(h, (w) => encodeInitProducerIdResponse(w, res));
      }
      default:
        return respond(h, (w) => w.int16(ErrorCode.UNSUPPORTED_VERSION));
    }
  }

  /** Existing logs of a topic, creating the topic first when auto-creation applies. */
  private logsFor(topic: string, allowAutoCreate: boolean): PartitionLog[] | undefined {
    const logs = this.topics.partitions(topic);
    if (logs || !allowAutoCreate || !this.config.autoCreateTopics || !isValidTopicName(topic))
      return logs;
    this.topics.create(topic, this.config.defaultPartitions);
    return this.topics.partitions(topic);
  }

  private metadata(h: RequestHeader, r: Reader): Buffer {
    const v = h.apiVersion;
    const req = decodeMetadataRequest(r, v);
    const names = req.topics ?? this.topics.names();
    const topics = names.map((name): MetadataTopic => {
      const logs = this.logsFor(name, req.allowAutoTopicCreation);
      if (!logs) {
        const errorCode = isValidTopicName(name)
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : ErrorCode.INVALID_TOPIC_EXCEPTION;
        return { errorCode, name, partitions: [] };
      }
      return {
        errorCode: ErrorCode.NONE,
        name,
        partitions: logs.map((_, partitionIndex) => ({
          errorCode: ErrorCode.NONE,
          partitionIndex,
          leaderId: NODE_ID,
          replicaNodes: [NODE_ID],
          isrNodes: [NODE_ID],
        })),
      };
    });
    return respond(h, (w) =>
      encodeMetadataResponse(w, v, {
        brokers: [{ nodeId: NODE_ID, host: this.config.advertisedHost, port: this.port() }],
        clusterId: CLUSTER_ID,
        controllerId: NODE_ID,
        topics,
      }),
    );
  }

  private produce(h: RequestHeader, r: Reader): Reply {
    const v = h.apiVersion;
    const req = decodeProduceRequest(r, v);
    const appended = new Set<PartitionLog>();
    const topics = req.topics.map((t) => {
      const logs = this.logsFor(t.name, true);
      return {
        name: t.name,
        partitions: t.partitions.map((p): ProducePartitionResponse => {
          const log = logs?.[p.partitionIndex];
          const fail = (errorCode: number): ProducePartitionResponse => ({
            partitionIndex: p.partitionIndex,
            errorCode,
            baseOffset: -1,
            logStartOffset: -1,
          });
          if (!log) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          // v0–v2 carry the legacy MessageSet; librdkafka and kafkajs use v3+ with RecordBatch v2.
          if (v < 3) return fail(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
          if (!p.records || p.records.length === 0) return fail(ErrorCode.CORRUPT_MESSAGE);
          const result = log.append(p.records);
          if (result.errorCode !== ErrorCode.NONE) return fail(result.errorCode);
          appended.add(log);
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            baseOffset: result.baseOffset,
            logStartOffset: log.logStartOffset,
          };
        }),
      };
    });
    if (req.acks === 0) return null;
    const encode = (): Buffer => respond(h, (w) => encodeProduceResponse(w, v, { topics }));
    if (req.acks !== -1 || appended.size === 0) return encode();
    // acks=all on a single node means "on disk": wait for the (group-committed) fsync.
    return Promise.all([...appended].map((log) => log.flush())).then(encode, () => {
      for (const t of topics)
        for (const p of t.partitions)
          if (p.errorCode === ErrorCode.NONE) p.errorCode = KAFKA_STORAGE_ERROR;
      return encode();
    });
  }

  private listOffsets(h: RequestHeader, r: Reader): Buffer {
    const v = h.apiVersion;
    const req = decodeListOffsetsRequest(r, v);
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): ListOffsetsPartitionResponse => {
        const log = this.topics.partition(t.name, p.partitionIndex);
        if (!log)
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            timestamp: -1,
            offset: -1,
          };
        const ok = (offset: number, timestamp = -1): ListOffsetsPartitionResponse => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.NONE,
          timestamp,
          offset,
        });
        if (p.timestamp === -1) return ok(log.logEndOffset);
        if (p.timestamp === -2) return ok(log.logStartOffset);
        const found = log.offsetForTimestamp(p.timestamp);
        return ok(found.offset, found.timestamp);
      }),
    }));
    return respond(h, (w) => encodeListOffsetsResponse(w, v, { topics }));
  }

  private createTopics(h: RequestHeader, r: Reader): Buffer {
    const v = h.apiVersion;
    const req = decodeCreateTopicsRequest(r, v);
    const topics = req.topics.map((t) => {
      const numPartitions =
        t.numPartitions === -1
          ? t.assignments.length > 0
            ? t.assignments.length
            : this.config.defaultPartitions
          : t.numPartitions;
      let errorCode: ErrorCode = ErrorCode.NONE;
      let errorMessage: string | null = null;
      if (!isValidTopicName(t.name)) errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
      else if (this.topics.partitions(t.name)) errorCode = ErrorCode.TOPIC_ALREADY_EXISTS;
      else if (!Number.isInteger(numPartitions) || numPartitions < 1)
        errorCode = ErrorCode.INVALID_PARTITIONS;
      else if (!req.validateOnly) errorCode = this.topics.create(t.name, numPartitions);
      if (errorCode !== ErrorCode.NONE) errorMessage = `topic ${t.name}: error ${errorCode}`;
      // Replication factors above 1 are accepted (one copy is kept) so production topic
      // definitions work unchanged against this single node.
      return { name: t.name, errorCode, errorMessage };
    });
    return respond(h, (w) => encodeCreateTopicsResponse(w, v, { topics }));
  }

  private deleteTopics(h: RequestHeader, r: Reader): Promise<Buffer> {
    const v = h.apiVersion;
    const req = decodeDeleteTopicsRequest(r);
    const responses = req.topicNames.map((name) => ({ name, errorCode: this.topics.delete(name) }));
    const forgotten = responses
      .filter((x) => x.errorCode === ErrorCode.NONE)
      .map((x) => this.groups.forgetTopic(x.name));
    return Promise.all(forgotten).then(() =>
      respond(h, (w) => encodeDeleteTopicsResponse(w, v, { responses })),
    );
  }
}

function respond(h: RequestHeader, body: (w: Writer) => void, sizeHint = 256): Buffer {
  const w = new Writer(sizeHint);
  w.int32(h.correlationId);
  body(w);
  return w.frame();
}
