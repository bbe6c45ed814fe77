import { ALL_TOPICS, Topic } from '@lib/contracts';
import { KafkaNames } from './kafka-names';

describe(KafkaNames.name, () => {
  it('should use the platform names as they are without prefixes', () => {
    const sut = new KafkaNames();
    expect(sut.allTopics()).toEqual([...ALL_TOPICS]);
    expect(sut.group('usage-aggregator')).toBe('usage-aggregator');
    expect(sut.platformTopic('run.created')).toBe(Topic.RunCreated);
  });

  it('should prefix every topic and group with the environment', () => {
    const sut = KafkaNames.fromConfig({ topicPrefix: 'prod.', groupPrefix: 'prod-' });
    expect(sut.topic(Topic.StorageFileUpdated)).toBe('prod.storage_file.updated');
    expect(sut.allTopics()).toEqual(ALL_TOPICS.map((t) => `prod.${t}`));
    expect(sut.group('usage-aggregator')).toBe('prod-usage-aggregator');
  });

  it('should map a prefixed Kafka topic back to its platform topic, and nothing else', () => {
    const sut = new KafkaNames('prod.');
    expect(sut.platformTopic('prod.run.updated')).toBe(Topic.RunUpdated);
    expect(sut.platformTopic('run.updated')).toBeUndefined();
    expect(sut.platformTopic('staging.run.updated')).toBeUndefined();
    expect(sut.platformTopic('prod.other')).toBeUndefined();
  });
});
