import { randomUUID } from 'node:crypto';
import { GroupProtocol, JoinGroupRequest, JoinGroupResponse } from '../codecs/join-group.codec';
import { SyncGroupRequest, SyncGroupResponse } from '../codecs/sync-group.codec';
import { DescribedGroup } from '../codecs/describe-groups.codec';
import { ErrorCode } from '../protocol/error-codes';
import { DevKafkaLogger } from '../logger';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinGroupCall extends JoinGroupRequest {
  apiVersion: number;
  clientId: string;
  clientHost: string;
}

export interface GroupTimeouts {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
}

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: GroupProtocol[];
  assignment: Buffer;
  awaitingJoin: ((res: JoinGroupResponse) => void) | null;
  awaitingSync: ((res: SyncGroupResponse) => void) | null;
  sessionTimer: NodeJS.Timeout | null;
}

const EMPTY = Buffer.alloc(0);

function joinError(errorCode: ErrorCode, memberId = ''): JoinGroupResponse {
  return { errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

function syncError(errorCode: ErrorCode): SyncGroupResponse {
  return { errorCode, assignment: EMPTY };
}

/**
 * One consumer group's coordinator state machine, modelled on Kafka's GroupCoordinator (and
 * franz-go kfake): Empty → PreparingRebalance → CompletingRebalance → Stable, back to
 * PreparingRebalance whenever membership changes, Dead once deleted. JoinGroup and SyncGroup
 * replies are parked as callbacks and released when the rebalance step they wait for completes.
 * Like kfake there is no initial-rebalance delay: late joiners simply trigger another rebalance.
 */
export class ConsumerGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  private readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394), valid for one session timeout. */
  private readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  private rebalanceTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly groupId: string,
    private readonly timeouts: GroupTimeouts,
    private readonly logger: DevKafkaLogger,
  ) {}

  get memberCount(): number {
    return this.members.size;
  }

  join(call: JoinGroupCall): Promise<JoinGroupResponse> {
    if (this.state === 'Dead')
      return Promise.resolve(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.timeouts;
    if (
      call.sessionTimeoutMs < minSessionTimeoutMs ||
      call.sessionTimeoutMs > maxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, call.memberId));
    }
    if (!this.acceptsProtocols(call)) {
      return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, call.memberId));
    }
    if (call.memberId === '') {
      const memberId = `${call.clientId || 'member'}-${randomUUID()}`;
      if (call.apiVersion >= 4) {
        const expiry = setTimeout(
          () => this.pendingMembers.delete(memberId),
          call.sessionTimeoutMs,
        );
        this.pendingMembers.set(memberId, expiry);
        return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
      }
      return this.addMemberAndRebalance(memberId, call);
    }
    const pending = this.pendingMembers.get(call.memberId);
    if (pending) {
      clearTimeout(pending);
      this.pendingMembers.delete(call.memberId);
      return this.addMemberAndRebalance(call.memberId, call);
    }
    const member = this.members.get(call.memberId);
    if (!member) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, call.memberId));
    return this.rejoin(member, call);
  }

  sync(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const member = this.members.get(req.memberId);
    if (!member) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== this.generationId)
      return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    switch (this.state) {
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.resetSession(member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: member.assignment });
      case 'CompletingRebalance': {
        member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const reply = new Promise<SyncGroupResponse>((resolve) => (member.awaitingSync = resolve));
        this.resetSession(member);
        if (member.memberId === this.leaderId) this.completeSync(req.assignments);
        return reply;
      }
      case 'Empty':
      case 'Dead':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  heartbeat(memberId: string, generationId: number): ErrorCode {
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.resetSession(member);
    // This is how Stable members learn that someone joined or left: they must rejoin.
    return this.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(memberId: string): ErrorCode {
    const pending = this.pendingMembers.get(memberId);
    if (pending) {
      clearTimeout(pending);
      this.pendingMembers.delete(memberId);
      return ErrorCode.NONE;
    }
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.logger.info(`dev-kafka: group ${this.groupId}: member ${memberId} left`);
    this.removeMember(member);
    return ErrorCode.NONE;
  }

  /** Whether an OffsetCommit from this member/generation may be stored (Kafka's rules). */
  validateCommit(memberId: string, generationId: number): ErrorCode {
    if (generationId < 0 && memberId === '') {
      // A standalone consumer (assign(), admin tools) may commit only while nobody is a member.
      return this.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    this.resetSession(member);
    return ErrorCode.NONE;
  }

  describe(): DescribedGroup {
    const stable = this.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId: this.groupId,
      groupState: this.state,
      protocolType: this.protocolType ?? '',
      protocolData: this.protocolName ?? '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** Ends the group (deletion or broker shutdown): timers cleared, parked replies failed. */
  markDead(errorCode: ErrorCode): void {
    this.state = 'Dead';
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = null;
    for (const t of this.pendingMembers.values()) clearTimeout(t);
    this.pendingMembers.clear();
    for (const m of this.members.values()) {
      if (m.sessionTimer) clearTimeout(m.sessionTimer);
      m.awaitingJoin?.(joinError(errorCode, m.memberId));
      m.awaitingSync?.(syncError(errorCode));
    }
    this.members.clear();
  }

  private acceptsProtocols(call: JoinGroupCall): boolean {
    if (call.protocolType === '' || call.protocols.length === 0) return false;
    const others = [...this.members.values()].filter((m) => m.memberId !== call.memberId);
    if (others.length === 0) return true;
    if (call.protocolType !== this.protocolType) return false;
    return call.protocols.some((p) =>
      others.every((m) => m.protocols.some((q) => q.name === p.name)),
    );
  }

  private addMemberAndRebalance(memberId: string, call: JoinGroupCall): Promise<JoinGroupResponse> {
    const member: Member = {
      memberId,
      groupInstanceId: call.groupInstanceId,
      clientId: call.clientId,
      clientHost: call.clientHost,
      sessionTimeoutMs: call.sessionTimeoutMs,
      rebalanceTimeoutMs: call.rebalanceTimeoutMs,
      protocols: call.protocols,
      assignment: EMPTY,
      awaitingJoin: null,
      awaitingSync: null,
      sessionTimer: null,
    };
    const reply = new Promise<JoinGroupResponse>((resolve) => (member.awaitingJoin = resolve));
    if (this.members.size === 0) this.protocolType = call.protocolType;
    this.members.set(memberId, member);
    this.logger.info(`dev-kafka: group ${this.groupId}: member ${memberId} joined`);
    this.prepareRebalance();
    this.maybeCompleteJoin();
    return reply;
  }

  private rejoin(member: Member, call: JoinGroupCall): Promise<JoinGroupResponse> {
    member.protocols = call.protocols;
    member.sessionTimeoutMs = call.sessionTimeoutMs;
    member.rebalanceTimeoutMs = call.rebalanceTimeoutMs;
    // A retried join replaces the one the client gave up on.
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    const reply = new Promise<JoinGroupResponse>((resolve) => (member.awaitingJoin = resolve));
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    if (this.state !== 'PreparingRebalance') this.prepareRebalance();
    this.maybeCompleteJoin();
    return reply;
  }

  private prepareRebalance(): void {
    if (this.state === 'CompletingRebalance') {
      for (const m of this.members.values()) {
        m.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        m.awaitingSync = null;
      }
    }
    this.state = 'PreparingRebalance';
    if (!this.rebalanceTimer && this.members.size > 0) {
      const timeout = Math.max(...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
      this.rebalanceTimer = setTimeout(() => this.onRebalanceTimeout(), timeout);
    }
  }

  private maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    for (const m of this.members.values()) if (!m.awaitingJoin) return;
    this.completeJoin();
  }

  private onRebalanceTimeout(): void {
    this.rebalanceTimer = null;
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin) {
        this.logger.info(
          `dev-kafka: group ${this.groupId}: member ${m.memberId} missed the rebalance`,
        );
        if (m.sessionTimer) clearTimeout(m.sessionTimer);
        this.members.delete(m.memberId);
      }
    }
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = null;
    this.generationId++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.protocolName = null;
      this.protocolType = null;
      this.leaderId = null;
      return;
    }
    const members = [...this.members.values()];
    const protocolName = this.selectProtocol(members);
    this.protocolName = protocolName;
    if (!this.leaderId || !this.members.has(this.leaderId)) this.leaderId = members[0].memberId;
    this.state = 'CompletingRebalance';
    const memberList = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY,
    }));
    for (const m of members) {
      const reply = m.awaitingJoin;
      m.awaitingJoin = null;
      m.assignment = EMPTY;
      this.resetSession(m);
      reply?.({
        errorCode: ErrorCode.NONE,
        generationId: this.generationId,
        protocolName,
        leader: this.leaderId,
        memberId: m.memberId,
        // Only the leader computes the assignment, so only it needs everyone's metadata.
        members: m.memberId === this.leaderId ? memberList : [],
      });
    }
    this.logger.info(
      `dev-kafka: group ${this.groupId}: generation ${this.generationId} with ${members.length} member(s), protocol ${protocolName}`,
    );
  }

  /** Kafka's vote: each member picks its most preferred protocol that every member supports. */
  private selectProtocol(members: Member[]): string {
    const candidates = members[0].protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))?.name;
      if (choice) votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = candidates[0];
    for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  private completeSync(assignments: { memberId: string; assignment: Buffer }[]): void {
    for (const m of this.members.values()) {
      m.assignment = assignments.find((a) => a.memberId === m.memberId)?.assignment ?? EMPTY;
    }
    this.state = 'Stable';
    for (const m of this.members.values()) {
      const reply = m.awaitingSync;
      m.awaitingSync = null;
      reply?.({ errorCode: ErrorCode.NONE, assignment: m.assignment });
    }
  }

  private resetSession(member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = null;
      if (this.members.get(member.memberId) !== member || member.awaitingJoin) return;
      this.logger.info(
        `dev-kafka: group ${this.groupId}: member ${member.memberId} session expired`,
      );
      this.removeMember(member);
    }, member.sessionTimeoutMs);
  }

  private removeMember(member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    this.members.delete(member.memberId);
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    member.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingJoin = null;
    member.awaitingSync = null;
    if (this.leaderId === member.memberId) this.leaderId = null;
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.prepareRebalance();
    this.maybeCompleteJoin();
  }
}
