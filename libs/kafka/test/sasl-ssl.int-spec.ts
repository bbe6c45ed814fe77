import { ALL_TOPICS, Topic } from '@lib/contracts';
import {
  consumerConfig,
  createKafka,
  kafkaClientConfig,
  producerConfig,
  provisionTopics,
  type KafkaConnection,
} from '@lib/kafka';
import { kafkaCheck } from '@lib/observability';
import {
  saslSslKafkaSetup,
  testKafkaConnection,
  waitFor,
  type KafkaCluster,
  type SaslSslKafkaSetup,
} from '@lib/testing';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { startKafkaCluster } from '../../../tools/local-servers/kafka/kafka-cluster';

// The platform's Kafka clients against a broker configured as production clusters are: a SASL_SSL
// listener with a certificate from a private CA, SCRAM users, client certificates required.
describe('Kafka over SASL_SSL', () => {
  let setup: SaslSslKafkaSetup;
  let cluster: KafkaCluster;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const signal = new AbortController().signal;

  /** The connection the validated settings give: the test's client settings with `changes`. */
  const connection = (changes: Record<string, string> = {}): KafkaConnection =>
    testKafkaConnection(cluster, { ...setup.clientEnv, ...changes });

  /** Connects an admin client that gives up at the first failure (the platform's clients retry ~12 s). */
  const connectOnce = async (c: KafkaConnection): Promise<void> => {
    const config = kafkaClientConfig({
      ...c,
      clientId: 'sasl-ssl-int',
      logLevel: logLevel.NOTHING,
    });
    const admin = new Kafka({ ...config, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    setup = await saslSslKafkaSetup();
    cluster = await startKafkaCluster(setup.cluster);
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await consumer?.disconnect();
    await cluster?.stop();
    await setup?.cleanup();
  });

  it('should provision the topics, produce idempotently and consume in a group', async () => {
    const kafka = createKafka({
      ...connection(),
      clientId: 'sasl-ssl-int',
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await provisionTopics(admin, {
        partitions: 3,
        replicationFactor: 1,
        minInsyncReplicas: 1,
      });
      expect(topics.map((t) => `${t.topic}: ${t.outcome}`).sort()).toEqual(
        ALL_TOPICS.map((t) => `${t}: created`).sort(),
      );
    } finally {
      await admin.disconnect();
    }

    producer = kafka.producer(producerConfig());
    await producer.connect();
    const [sent] = await producer.send({
      topic: Topic.StorageFileUpdated,
      messages: [{ key: 'obj-1', value: 'over TLS and SCRAM' }],
    });
    expect(sent.errorCode).toBe(0);

    consumer = kafka.consumer(consumerConfig('sasl-ssl-int'));
    await consumer.connect();
    await consumer.subscribe({ topics: [Topic.StorageFileUpdated], fromBeginning: true });
    const read: string[] = [];
    await consumer.run({
      eachMessage: ({ message }) => {
        read.push(`${message.key?.toString()}=${message.value?.toString()}`);
        return Promise.resolve();
      },
    });
    await waitFor('the group to read the message', () => read.length > 0);
    expect(read).toEqual(['obj-1=over TLS and SCRAM']);
  });

  it('should authenticate with SCRAM-SHA-512 as well', async () => {
    await expect(
      connectOnce(connection({ KAFKA_SASL_MECHANISM: 'scram-sha-512' })),
    ).resolves.toBeUndefined();
  });

  it('should report the broker ready over TLS (ApiVersions comes before SASL)', async () => {
    await expect(kafkaCheck(connection()).check(signal)).resolves.toBeUndefined();
  });

  it('should refuse a wrong password, saying so', async () => {
    await expect(connectOnce(connection({ KAFKA_SASL_PASSWORD: 'wrong' }))).rejects.toThrow(
      /SASL SCRAM SHA256 authentication failed.*invalid credentials/,
    );
  });

  it("should refuse the broker's certificate without the CA that issued it", async () => {
    const systemCas = connection({ KAFKA_SSL_CA_FILE: '' });
    await expect(connectOnce(systemCas)).rejects.toThrow(/certificate/);
    await expect(kafkaCheck(systemCas).check(signal)).rejects.toThrow(
      /no Kafka broker answered: 127\.0\.0\.1:\d+: .*certificate/,
    );
  });
});
