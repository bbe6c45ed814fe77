import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

/** Same protocol name and version as kafkajs' stock `PartitionAssigners.roundRobin`. */
export const ROUND_ROBIN_PROTOCOL = 'RoundRobinAssigner';
const VERSION = 0;

/** How long the group leader waits before answering when the group has several members. */
export const DEFAULT_ASSIGN_DELAY_MS = 500;

// Global setTimeout (not timers/promises) so fake timers in tests control it.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface TopicPartition {
  topic: string;
  partitionId: number;
}

/** memberId → topic → partition ids. */
export type Assignment = Record<string, Record<string, number[]>>;

/**
 * The stock round-robin assignment, as a pure function: partitions in the given order are dealt to
 * the members sorted by id. Members left without a partition are absent from the result (as in
 * kafkajs; the coordinator gives them an empty assignment).
 */
export function roundRobinAssignment(
  memberIds: readonly string[],
  partitions: readonly TopicPartition[],
): Assignment {
  const sorted = [...memberIds].sort();
  const assignment: Assignment = {};
  if (sorted.length === 0) return assignment;
  partitions.forEach(({ topic, partitionId }, i) => {
    const member = sorted[i % sorted.length];
    const topics = (assignment[member] ??= {});
    (topics[topic] ??= []).push(partitionId);
  });
  return assignment;
}

/**
 * A kafkajs round-robin assigner whose `assign` waits `delayMs` when the group has more than one
 * member.
 *
 * Why: librdkafka's mock cluster (our local Kafka) answers INVALID_REQUEST (42) to a follower whose
 * SyncGroup arrives after the leader's, and kafkajs treats that as fatal: the consumer stops. Only
 * the leader runs `assign`, so delaying it lets the followers' SyncGroups reach the coordinator
 * first (they are held until the leader's arrives). It announces the stock protocol name, so on
 * real Kafka it interoperates with stock kafkajs members; there the delay only adds ~0.5 s to
 * multi-member rebalances.
 */
export function createDelayedRoundRobinAssigner(
  delayMs: number = DEFAULT_ASSIGN_DELAY_MS,
): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: ROUND_ROBIN_PROTOCOL,
    version: VERSION,

    async assign({ members, topics }) {
      if (members.length > 1 && delayMs > 0) await sleep(delayMs);
      const partitions = topics.flatMap((topic) =>
        cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => ({ topic, partitionId: p.partitionId })),
      );
      const assignment = roundRobinAssignment(
        members.map((m) => m.memberId),
        partitions,
      );
      return Object.entries(assignment).map(([memberId, memberTopics]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: memberTopics,
          userData: Buffer.alloc(0),
        }),
      }));
    },

    protocol({ topics }) {
      return {
        name: ROUND_ROBIN_PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}

/** The assigner `consumerConfig()` uses: round robin, 500 ms leader delay in multi-member groups. */
export const DelayedRoundRobinAssigner: PartitionAssigner = createDelayedRoundRobinAssigner();
