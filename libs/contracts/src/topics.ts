/**
 * Kafka topic names.
 *
 * WARNING: persisted names and a public contract (other teams subscribe to them). Never rename one:
 * a breaking change gets a new topic (e.g. `storage_file.updated.v2`) or a new envelope version.
 */
export const Topic = {
  StorageFileUpdated: 'storage_file.updated',
  RunCreated: 'run.created',
  RunUpdated: 'run.updated',
} as const;
export type Topic = (typeof Topic)[keyof typeof Topic];

export const ALL_TOPICS: readonly Topic[] = Object.values(Topic);

/** Partitions per topic unless the topic-provisioning command is told otherwise (KAFKA_TOPIC_PARTITIONS). */
export const TOPIC_PARTITIONS = 6;

/** CloudEvents `type` of each topic's events (reverse-DNS, versioned). WARNING: persisted names. */
export const EventType: Record<Topic, string> = {
  [Topic.StorageFileUpdated]: 'com.platform.storage_file.updated.v1',
  [Topic.RunCreated]: 'com.platform.run.created.v1',
  [Topic.RunUpdated]: 'com.platform.run.updated.v1',
};
