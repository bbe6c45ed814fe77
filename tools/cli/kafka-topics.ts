import { kafkaConfig, KafkaOnlyEnv, validateEnv } from '@lib/config';
import { TOPIC_PARTITIONS } from '@lib/contracts';
import {
  createKafka,
  kafkaConnection,
  KafkaNames,
  provisionTopics,
  type ProvisionedTopic,
  type TopicSettings,
} from '@lib/kafka';
import { logLevel } from 'kafkajs';
import { CliError } from './cli-env';

/** A whole number from the environment, `fallback` when unset; a clear error when it is not one. */
function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) {
    throw new CliError(`${name} must be a whole number, ${min} or more (got "${raw}")`);
  }
  return value;
}

/** Topic layout from `KAFKA_TOPIC_PARTITIONS` (6), `KAFKA_TOPIC_REPLICATION_FACTOR` (3), `KAFKA_TOPIC_MIN_INSYNC_REPLICAS` (2). */
export function topicSettingsFromEnv(): TopicSettings {
  return {
    partitions: intEnv('KAFKA_TOPIC_PARTITIONS', TOPIC_PARTITIONS, 1),
    replicationFactor: intEnv('KAFKA_TOPIC_REPLICATION_FACTOR', 3, 1),
    minInsyncReplicas: intEnv('KAFKA_TOPIC_MIN_INSYNC_REPLICAS', 2, 1),
  };
}

/**
 * `cli kafka-topics`: creates the platform's missing topics (what the Kubernetes topic Job runs), named with
 * KAFKA_TOPIC_PREFIX. Reaches the brokers with the apps' Kafka settings (KAFKA_BROKERS, KAFKA_SSL*,
 * KAFKA_SASL*), validated as they are.
 */
export async function runKafkaTopics(): Promise<ProvisionedTopic[]> {
  const kafka = kafkaConfig(validateEnv(KafkaOnlyEnv)(process.env));
  const connection = kafkaConnection(kafka);
  const settings = topicSettingsFromEnv();
  const admin = createKafka({
    ...connection,
    clientId: 'kafka-topics',
    logLevel: logLevel.ERROR,
  }).admin();
  await admin.connect();
  try {
    return await provisionTopics(admin, settings, KafkaNames.fromConfig(kafka).allTopics());
  } finally {
    await admin.disconnect();
  }
}
