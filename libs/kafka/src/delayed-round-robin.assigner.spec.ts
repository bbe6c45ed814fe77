import { AssignerProtocol, PartitionAssigners, type Cluster, type Logger } from 'kafkajs';
import {
  createDelayedRoundRobinAssigner,
  DelayedRoundRobinAssigner,
  ROUND_ROBIN_PROTOCOL,
  roundRobinAssignment,
} from './delayed-round-robin.assigner';

const partitions = (topic: string, count: number) =>
  Array.from({ length: count }, (_, partitionId) => ({ topic, partitionId }));

/** A Cluster stub answering only what an assigner asks: partition metadata per topic. */
function clusterWith(partitionCounts: Record<string, number>): Cluster {
  const findTopicPartitionMetadata = (topic: string) =>
    Array.from({ length: partitionCounts[topic] ?? 0 }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
  return { findTopicPartitionMetadata } as unknown as Cluster;
}

const logger = {} as Logger;
const member = (memberId: string) => ({ memberId, memberMetadata: Buffer.alloc(0) });

function decode(result: { memberId: string; memberAssignment: Buffer }[]) {
  return Object.fromEntries(
    result.map(({ memberId, memberAssignment }) => [
      memberId,
      AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment,
    ]),
  );
}

describe('roundRobinAssignment', () => {
  it('deals partitions to members sorted by id', () => {
    expect(roundRobinAssignment(['b', 'a'], partitions('t', 5))).toEqual({
      a: { t: [0, 2, 4] },
      b: { t: [1, 3] },
    });
  });

  it('continues the deal across topics in the given order', () => {
    const all = [...partitions('x', 3), ...partitions('y', 2)];
    expect(roundRobinAssignment(['m1', 'm2'], all)).toEqual({
      m1: { x: [0, 2], y: [1] },
      m2: { x: [1], y: [0] },
    });
  });

  it('gives a single member everything', () => {
    expect(roundRobinAssignment(['only'], partitions('t', 3))).toEqual({ only: { t: [0, 1, 2] } });
  });

  it('leaves members beyond the partition count out', () => {
    expect(roundRobinAssignment(['c', 'a', 'b'], partitions('t', 2))).toEqual({
      a: { t: [0] },
      b: { t: [1] },
    });
  });

  it('assigns every partition exactly once, balanced within one', () => {
    const members = Array.from({ length: 4 }, (_, i) => `member-${i}`);
    const all = [...partitions('a', 6), ...partitions('b', 6), ...partitions('c', 1)];
    const result = roundRobinAssignment(members, all);
    const dealt = Object.values(result).flatMap((topics) =>
      Object.entries(topics).flatMap(([topic, ids]) => ids.map((id) => `${topic}/${id}`)),
    );
    expect(dealt.sort()).toEqual(all.map((p) => `${p.topic}/${p.partitionId}`).sort());
    const sizes = Object.values(result).map((t) => Object.values(t).flat().length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('returns nothing for no members or no partitions', () => {
    expect(roundRobinAssignment([], partitions('t', 3))).toEqual({});
    expect(roundRobinAssignment(['a'], [])).toEqual({});
  });

  it('does not mutate its inputs', () => {
    const members = ['b', 'a'];
    roundRobinAssignment(members, partitions('t', 2));
    expect(members).toEqual(['b', 'a']);
  });
});

describe('DelayedRoundRobinAssigner', () => {
  const cluster = clusterWith({ orders: 6, runs: 3 });

  it('announces the stock round-robin protocol, byte for byte', () => {
    const ours = DelayedRoundRobinAssigner({ cluster, groupId: 'g', logger });
    const stock = PartitionAssigners.roundRobin({ cluster, groupId: 'g', logger });
    expect(ours.name).toBe(ROUND_ROBIN_PROTOCOL);
    expect(ours.name).toBe(stock.name);
    expect(ours.version).toBe(stock.version);
    expect(ours.protocol({ topics: ['orders', 'runs'] })).toEqual(
      stock.protocol({ topics: ['orders', 'runs'] }),
    );
  });

  it('assigns exactly as the stock round robin', async () => {
    const group = { members: ['z', 'y', 'x'].map(member), topics: ['orders', 'runs'] };
    const ours = createDelayedRoundRobinAssigner(0)({ cluster, groupId: 'g', logger });
    const stock = PartitionAssigners.roundRobin({ cluster, groupId: 'g', logger });
    const [mine, theirs] = await Promise.all([ours.assign(group), stock.assign(group)]);
    expect(decode(mine)).toEqual(decode(theirs));
    expect(decode(mine)).toEqual({
      x: { orders: [0, 3], runs: [0] },
      y: { orders: [1, 4], runs: [1] },
      z: { orders: [2, 5], runs: [2] },
    });
  });

  describe('delay', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('answers a single-member group at once', async () => {
      const assigner = createDelayedRoundRobinAssigner(500)({ cluster, groupId: 'g', logger });
      const result = await assigner.assign({ members: [member('a')], topics: ['runs'] });
      expect(decode(result)).toEqual({ a: { runs: [0, 1, 2] } });
    });

    it('waits the delay before answering a multi-member group', async () => {
      const assigner = createDelayedRoundRobinAssigner(500)({ cluster, groupId: 'g', logger });
      let settled = false;
      const pending = assigner
        .assign({ members: [member('a'), member('b')], topics: ['runs'] })
        .finally(() => (settled = true));

      await jest.advanceTimersByTimeAsync(499);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(decode(await pending)).toEqual({ a: { runs: [0, 2] }, b: { runs: [1] } });
    });
  });
});
