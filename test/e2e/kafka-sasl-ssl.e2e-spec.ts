import {
  saslSslKafkaSetup,
  startTestPlatform,
  waitFor,
  type SaslSslKafkaSetup,
  type TestOrg,
  type TestPlatform,
} from '@lib/testing';

// The platform on Kafka as production clusters run it: TLS with a private CA and client certificates,
// SCRAM-SHA-512, all from the KAFKA_SSL* and KAFKA_SASL* settings. An object created through the gateway
// is published by object-metadata's relay and counted by the usage-aggregator's consumer.
describe('platform on a SASL_SSL Kafka', () => {
  let setup: SaslSslKafkaSetup;
  let t: TestPlatform;
  let org: TestOrg;

  beforeAll(async () => {
    setup = await saslSslKafkaSetup();
    t = await startTestPlatform({
      apps: ['object-metadata', 'storage', 'usage-aggregator', 'gateway'],
      kafka: {
        ...setup.cluster,
        clientEnv: { ...setup.clientEnv, KAFKA_SASL_MECHANISM: 'scram-sha-512' },
      },
    });
    org = await t.createOrg();
  });

  afterAll(async () => {
    await t?.stop();
    await setup?.cleanup();
  });

  it('should publish and consume storage_file.updated when an object is created', async () => {
    const created = await fetch(`${t.gatewayUrl}/v1/objects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'over-tls.txt', content_type: 'text' }),
    });
    expect(created.status).toBe(200);

    const usage = async () => {
      const res = await fetch(`${t.gatewayUrl}/api/v1/objects/storage-usage`, {
        headers: { authorization: `Bearer ${org.adminJwt}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { orgKey: string; fileCount: number };
    };
    await waitFor('usage to count the object', async () => (await usage()).fileCount === 1, {
      timeoutMs: 60_000,
    });
    expect(await usage()).toMatchObject({ orgKey: org.orgKey, fileCount: 1 });
  });
});
