import { DescribedGroup } from '../codecs/describe-groups.codec';
import { JoinGroupResponse } from '../codecs/join-group.codec';
import { ListedGroup } from '../codecs/list-groups.codec';
import { OffsetCommitRequest, OffsetCommitResponse } from '../codecs/offset-commit.codec';
import { OffsetFetchRequest, OffsetFetchResponse } from '../codecs/offset-fetch.codec';
import { SyncGroupRequest, SyncGroupResponse } from '../codecs/sync-group.codec';
import { ErrorCode } from '../protocol/error-codes';
import { DevKafkaLogger } from '../logger';
import { OffsetStore } from '../storage/offset-store';
import { TopicStore } from '../storage/topic-store';
import { ConsumerGroup, GroupTimeouts, JoinGroupCall } from './consumer-group';

/** All groups of this (only) coordinator, plus their committed offsets. Memberships are not persisted. */
export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();

  constructor(
    private readonly offsets: OffsetStore,
    private readonly topics: TopicStore,
    private readonly timeouts: GroupTimeouts,
    private readonly logger: DevKafkaLogger,
  ) {}

  private group(groupId: string): ConsumerGroup {
    let group = this.groups.get(groupId);
    if (!group || group.state === 'Dead') {
      group = new ConsumerGroup(groupId, this.timeouts, this.logger);
      this.groups.set(groupId, group);
    }
    return group;
  }

  joinGroup(call: JoinGroupCall): Promise<JoinGroupResponse> {
    if (call.groupId === '') {
      return Promise.resolve({
        errorCode: ErrorCode.INVALID_GROUP_ID,
        generationId: -1,
        protocolName: '',
        leader: '',
        memberId: call.memberId,
        members: [],
      });
    }
    return this.group(call.groupId).join(call);
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const group = this.groups.get(req.groupId);
    if (!group)
      return Promise.resolve({
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        assignment: Buffer.alloc(0),
      });
    return group.sync(req);
  }

  heartbeat(groupId: string, memberId: string, generationId: number): ErrorCode {
    return (
      this.groups.get(groupId)?.heartbeat(memberId, generationId) ?? ErrorCode.UNKNOWN_MEMBER_ID
    );
  }

  leaveGroup(groupId: string, memberId: string): ErrorCode {
    return this.groups.get(groupId)?.leave(memberId) ?? ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Stores the commit and answers only once it is durable on disk. */
  async commitOffsets(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const groupError =
      req.groupId === ''
        ? ErrorCode.INVALID_GROUP_ID
        : (this.groups.get(req.groupId)?.validateCommit(req.memberId, req.generationId) ??
          (req.generationId < 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID));
    let stored = false;
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: ErrorCode = groupError;
        if (errorCode === ErrorCode.NONE && !this.topics.partition(t.name, p.partitionIndex)) {
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (errorCode === ErrorCode.NONE) {
          this.offsets.set(req.groupId, t.name, p.partitionIndex, {
            offset: p.committedOffset,
            metadata: p.committedMetadata,
          });
          stored = true;
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (stored) await this.offsets.save();
    return { topics };
  }

  fetchOffsets(req: OffsetFetchRequest): OffsetFetchResponse {
    const committed = this.offsets.forGroup(req.groupId);
    const wanted =
      req.topics ??
      [...committed.entries()].map(([name, partitions]) => ({
        name,
        partitionIndexes: [...partitions.keys()],
      }));
    return {
      errorCode: ErrorCode.NONE,
      topics: wanted.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const c = committed.get(t.name)?.get(partitionIndex);
          return {
            partitionIndex,
            committedOffset: c?.offset ?? -1,
            metadata: c?.metadata ?? '',
            errorCode: ErrorCode.NONE,
          };
        }),
      })),
    };
  }

  describeGroups(groupIds: string[]): DescribedGroup[] {
    return groupIds.map((groupId) => {
      const group = this.groups.get(groupId);
      if (group) return group.describe();
      const state = this.offsets.forGroup(groupId).size > 0 ? 'Empty' : 'Dead';
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: state,
        protocolType: '',
        protocolData: '',
        members: [],
      };
    });
  }

  listGroups(): ListedGroup[] {
    const ids = new Set([
      ...this.offsets.groupIds(),
      ...[...this.groups.values()].filter((g) => g.state !== 'Dead').map((g) => g.groupId),
    ]);
    return [...ids].sort().map((groupId) => ({
      groupId,
      protocolType: this.groups.get(groupId)?.protocolType ?? 'consumer',
    }));
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: ErrorCode }[]> {
    const results = groupIds.map((groupId) => {
      const group = this.groups.get(groupId);
      if (group && group.memberCount > 0) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
      if (!group && this.offsets.forGroup(groupId).size === 0)
        return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
      group?.markDead(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      this.groups.delete(groupId);
      this.offsets.deleteGroup(groupId);
      return { groupId, errorCode: ErrorCode.NONE };
    });
    await this.offsets.save();
    return results;
  }

  /** A deleted topic's commits go with it, as in Kafka. */
  async forgetTopic(topic: string): Promise<void> {
    this.offsets.deleteTopic(topic);
    await this.offsets.save();
  }

  shutdown(): void {
    for (const group of this.groups.values()) group.markDead(ErrorCode.NOT_COORDINATOR);
    this.groups.clear();
  }
}
