import type { KafkaConfig } from '@lib/config';
import { ALL_TOPICS, type Topic } from '@lib/contracts';

/**
 * The names an environment gives the platform's topics and consumer groups in Kafka: each with its prefix
 * (`KAFKA_TOPIC_PREFIX`, `KAFKA_GROUP_PREFIX`; both empty by default). The code and the outbox speak of the
 * platform topics (`storage_file.updated`); the producer, the consumers and the topic-provisioning command
 * translate at the edge, so one Kafka cluster can carry several environments.
 */
export class KafkaNames {
  constructor(
    readonly topicPrefix = '',
    readonly groupPrefix = '',
  ) {}

  /** The names of the app's `kafka` config (KAFKA_TOPIC_PREFIX and KAFKA_GROUP_PREFIX). */
  static fromConfig(kafka: Pick<KafkaConfig, 'topicPrefix' | 'groupPrefix'>): KafkaNames {
    return new KafkaNames(kafka.topicPrefix, kafka.groupPrefix);
  }

  /** The Kafka topic of a platform topic. */
  topic(topic: Topic): string {
    return this.topicPrefix + topic;
  }

  /** The Kafka topics of every platform topic: what the topic-provisioning command creates. */
  allTopics(): string[] {
    return ALL_TOPICS.map((topic) => this.topic(topic));
  }

  /** The platform topic a Kafka topic stands for, or undefined for a topic of another environment or none. */
  platformTopic(kafkaTopic: string): Topic | undefined {
    return ALL_TOPICS.find((topic) => this.topic(topic) === kafkaTopic);
  }

  /** The Kafka consumer group of a platform group (an app's name). */
  group(group: string): string {
    return this.groupPrefix + group;
  }
}
