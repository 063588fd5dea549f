import { silentLogger } from '../logger';
import { ErrorCode } from '../protocol/error-codes';
import { ConsumerGroup, JoinGroupCall } from './consumer-group';

function call(memberId: string, overrides: Partial<JoinGroupCall> = {}): JoinGroupCall {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'roundrobin', metadata: Buffer.from(memberId || 'new') }],
    apiVersion: 5,
    clientId: 'client',
    clientHost: '127.0.0.1',
    ...overrides,
  };
}

async function joinNew(group: ConsumerGroup): Promise<string> {
  const first = await group.join(call(''));
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  return first.memberId;
}

describe('ConsumerGroup', () => {
  let group: ConsumerGroup;
  beforeEach(() => {
    jest.useFakeTimers();
    group = new ConsumerGroup(
      'g',
      { minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 },
      silentLogger,
    );
  });
  afterEach(() => {
    group.markDead(ErrorCode.NOT_COORDINATOR);
    jest.useRealTimers();
  });

  it('runs Empty → PreparingRebalance → CompletingRebalance → Stable for two members', async () => {
    const a = await joinNew(group);
    const joinA = await group.join(call(a));
    expect(joinA).toMatchObject({ errorCode: 0, generationId: 1, leader: a });
    expect(group.state).toBe('CompletingRebalance');
    expect(
      (await group.sync({ groupId: 'g', generationId: 1, memberId: a, assignments: [] })).errorCode,
    ).toBe(0);
    expect(group.state).toBe('Stable');

    const b = await joinNew(group);
    const pendingB = group.join(call(b));
    expect(group.state).toBe('PreparingRebalance');
    // The stable member learns of the rebalance from its heartbeat, then rejoins.
    expect(group.heartbeat(a, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const [rejoinA, joinB] = await Promise.all([group.join(call(a)), pendingB]);
    expect(rejoinA).toMatchObject({ generationId: 2, leader: a });
    expect(rejoinA.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
    expect(joinB.members).toEqual([]); // only the leader gets the member list

    // The follower's SyncGroup is held until the leader's assignment arrives.
    let followerAssignment: Buffer | null = null;
    const syncB = group
      .sync({ groupId: 'g', generationId: 2, memberId: b, assignments: [] })
      .then((r) => {
        followerAssignment = r.assignment;
      });
    await Promise.resolve();
    expect(followerAssignment).toBeNull();
    await group.sync({
      groupId: 'g',
      generationId: 2,
      memberId: a,
      assignments: [
        { memberId: a, assignment: Buffer.from('A') },
        { memberId: b, assignment: Buffer.from('B') },
      ],
    });
    await syncB;
    expect(followerAssignment).toEqual(Buffer.from('B'));
    expect(group.state).toBe('Stable');
    expect(group.heartbeat(b, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('evicts a member whose session times out and rebalances the rest', async () => {
    const a = await joinNew(group);
    await group.join(call(a)); // generation 1, alone
    const b = await joinNew(group);
    await Promise.all([group.join(call(b)), group.join(call(a))]); // generation 2, both
    await Promise.all([
      group.sync({ groupId: 'g', generationId: 2, memberId: b, assignments: [] }),
      group.sync({ groupId: 'g', generationId: 2, memberId: a, assignments: [] }),
    ]);
    expect(group.state).toBe('Stable');
    jest.advanceTimersByTime(6000);
    expect(group.heartbeat(a, 2)).toBe(ErrorCode.NONE);
    jest.advanceTimersByTime(6000); // b has been silent for 12 s > 10 s
    expect(group.heartbeat(a, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(group.heartbeat(b, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoin = await group.join(call(a));
    expect(rejoin).toMatchObject({ generationId: 3, leader: a });
    expect(rejoin.members.map((m) => m.memberId)).toEqual([a]);
  });

  it('completes the rebalance without members that do not rejoin in time', async () => {
    const a = await joinNew(group);
    await group.join(call(a));
    await group.sync({ groupId: 'g', generationId: 1, memberId: a, assignments: [] });
    const b = await joinNew(group);
    const joinB = group.join(call(b));
    // a keeps heartbeating (so its session stays alive) but never rejoins.
    for (let t = 0; t < 30; t++) {
      jest.advanceTimersByTime(1000);
      group.heartbeat(a, 1);
    }
    const res = await joinB;
    expect(res).toMatchObject({ errorCode: 0, generationId: 2, leader: b });
    expect(group.heartbeat(a, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('goes back to Empty when the last member leaves', async () => {
    const a = await joinNew(group);
    await group.join(call(a));
    await group.sync({ groupId: 'g', generationId: 1, memberId: a, assignments: [] });
    expect(group.leave(a)).toBe(ErrorCode.NONE);
    expect(group.state).toBe('Empty');
    expect(group.validateCommit('', -1)).toBe(ErrorCode.NONE);
  });
});
