import type { Admin, ITopicConfig } from 'kafkajs';
import { ALL_TOPICS } from '@lib/contracts';

/** How the platform's topics are laid out (settings of the topic-provisioning command). */
export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  /** Replicas that must have a write before it counts (producers send with acks=all). */
  minInsyncReplicas: number;
}

export interface ProvisionedTopic {
  topic: string;
  /** `created` now, or `exists` (left as it is: partitions and settings change only deliberately). */
  outcome: 'created' | 'exists';
  partitions: number;
}

/**
 * Creates every platform topic that does not exist yet, with the given partitions, replication factor and
 * `min.insync.replicas`, and waits for their leaders. Existing topics are described, never altered. The
 * brokers run with topic auto-creation off, so this is the only way topics come to exist: the CLI's
 * `kafka-topics` command (the Kubernetes topic Job), local runs and test suites all call it.
 */
export async function provisionTopics(
  admin: Admin,
  settings: TopicSettings,
  topics: readonly string[] = ALL_TOPICS,
): Promise<ProvisionedTopic[]> {
  if (settings.minInsyncReplicas > settings.replicationFactor) {
    throw new RangeError(
      `min.insync.replicas (${settings.minInsyncReplicas}) exceeds the replication factor (${settings.replicationFactor}): no write could succeed`,
    );
  }
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = topics
    .filter((topic) => !existing.has(topic))
    .map((topic) => ({
      topic,
      numPartitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      configEntries: [{ name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) }],
    }));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: true, timeout: 30_000 });
  }
  const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
  const created = new Set(missing.map((t) => t.topic));
  return described.map((t) => ({
    topic: t.name,
    outcome: created.has(t.name) ? 'created' : 'exists',
    partitions: t.partitions.length,
  }));
}
