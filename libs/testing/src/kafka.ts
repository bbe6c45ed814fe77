import { kafkaConfig, KafkaOnlyEnv, validateEnv } from '@lib/config';
import { ALL_TOPICS, TOPIC_PARTITIONS } from '@lib/contracts';
import { createKafka, kafkaConnection, provisionTopics, type KafkaConnection } from '@lib/kafka';
import { logLevel } from 'kafkajs';
import {
  startKafkaCluster,
  type KafkaCluster,
  type KafkaClusterOptions,
} from '../../../tools/local-servers/kafka/kafka-cluster';

export type { KafkaCluster, KafkaNode } from '../../../tools/local-servers/kafka/kafka-cluster';

export interface TestKafkaOptions extends KafkaClusterOptions {
  /** Topics to provision (6 partitions each, replicated to min(nodes, 3)). Default: the platform's. */
  topics?: readonly string[];
  /**
   * The KAFKA_SSL* and KAFKA_SASL* settings clients need with this cluster's `clientProtocol` (for example
   * `saslSslKafkaSetup().clientEnv`); `startTestPlatform` gives them to the apps. Default: none.
   */
  clientEnv?: Record<string, string>;
}

/** How a client reaches `cluster` with `clientEnv`: validated and mapped as the apps do it. */
export function testKafkaConnection(
  cluster: KafkaCluster,
  clientEnv: Record<string, string> = {},
): KafkaConnection {
  return kafkaConnection(
    kafkaConfig(
      validateEnv(KafkaOnlyEnv)({ ...clientEnv, KAFKA_BROKERS: cluster.brokers.join(',') }),
    ),
  );
}

/**
 * Apache Kafka for a suite (default: one node) with the platform's topics provisioned as the
 * `kafka-topics` command does: replication factor min(nodes, 3), `min.insync.replicas` min(nodes, 2).
 */
export async function startTestKafka(opts: TestKafkaOptions = {}): Promise<KafkaCluster> {
  const cluster = await startKafkaCluster(opts);
  try {
    const nodes = cluster.nodes.length;
    const admin = createKafka({
      ...testKafkaConnection(cluster, opts.clientEnv),
      clientId: 'test-topics',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      await provisionTopics(
        admin,
        {
          partitions: TOPIC_PARTITIONS,
          replicationFactor: Math.min(nodes, 3),
          minInsyncReplicas: Math.min(nodes, 2),
        },
        opts.topics ?? ALL_TOPICS,
      );
    } finally {
      await admin.disconnect();
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
