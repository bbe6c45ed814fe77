import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidEnvironmentError, kafkaConfig, type KafkaEnv } from '@lib/config';
import { kafkaClientConfig } from './kafka.config';
import { kafkaConnection } from './kafka.connection';

const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';

const env = (settings: Partial<KafkaEnv> = {}): KafkaEnv => ({
  KAFKA_BROKERS: 'kafka-1:9093,kafka-2:9093',
  KAFKA_SSL: false,
  ...settings,
});

/** The connection of the validated settings `env`, mapped as the apps do it. */
const kafkaConnectionFromEnv = (settings: KafkaEnv) => kafkaConnection(kafkaConfig(settings));

describe(kafkaConnection.name, () => {
  let dir: string;
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kafka-connection-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should split the brokers and use plaintext without SASL by default', () => {
    expect(kafkaConnectionFromEnv(env())).toEqual({ brokers: ['kafka-1:9093', 'kafka-2:9093'] });
  });

  it('should speak TLS with the system CAs when no file is given', () => {
    expect(kafkaConnectionFromEnv(env({ KAFKA_SSL: true })).ssl).toEqual({});
  });

  it('should read the CA bundle and the client certificate and key', () => {
    const connection = kafkaConnectionFromEnv(
      env({
        KAFKA_SSL: true,
        KAFKA_SSL_CA_FILE: file('ca.pem', CERTIFICATE + CERTIFICATE),
        KAFKA_SSL_CERT_FILE: file('client.pem', CERTIFICATE),
        KAFKA_SSL_KEY_FILE: file('client-key.pem', KEY),
      }),
    );
    expect(connection.ssl).toEqual({ ca: CERTIFICATE + CERTIFICATE, cert: CERTIFICATE, key: KEY });
  });

  it('should refuse a file that holds no PEM block of the expected kind, naming the variable', () => {
    const notPem = file('ca.der', 'binary');
    expect(() =>
      kafkaConnectionFromEnv(env({ KAFKA_SSL: true, KAFKA_SSL_CA_FILE: notPem })),
    ).toThrow(
      new InvalidEnvironmentError([`KAFKA_SSL_CA_FILE: ${notPem} holds no PEM certificate`]),
    );
    const certificate = file('swapped.pem', CERTIFICATE);
    expect(() =>
      kafkaConnectionFromEnv(
        env({ KAFKA_SSL: true, KAFKA_SSL_CERT_FILE: certificate, KAFKA_SSL_KEY_FILE: certificate }),
      ),
    ).toThrow(`KAFKA_SSL_KEY_FILE: ${certificate} holds no PEM private key`);
  });

  it('should map plain and SCRAM to their kafkajs mechanism with the credentials', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const connection = kafkaConnectionFromEnv(
        env({
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: 'platform',
          KAFKA_SASL_PASSWORD: 'secret',
        }),
      );
      expect(connection.sasl).toEqual({ mechanism, username: 'platform', password: 'secret' });
    }
  });

  it('should refuse settings that skipped validation', () => {
    expect(() => kafkaConnectionFromEnv(env({ KAFKA_SASL_MECHANISM: 'plain' }))).toThrow(
      'KAFKA_SASL_USERNAME is required',
    );
  });

  it("should take OAUTHBEARER's token provider from the module's oauthBearerProvider export", async () => {
    const provider = file(
      'token-provider.js',
      "exports.oauthBearerProvider = async () => ({ value: 'token-1' });\n",
    );
    const { sasl } = kafkaConnectionFromEnv(
      env({ KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_PROVIDER: provider }),
    );
    expect(sasl?.mechanism).toBe('oauthbearer');
    const token = sasl?.mechanism === 'oauthbearer' ? await sasl.oauthBearerProvider() : undefined;
    expect(token).toEqual({ value: 'token-1' });
  });

  it('should refuse a provider module without the export, naming the variable', () => {
    const provider = file('no-provider.js', 'exports.provider = () => undefined;\n');
    expect(() =>
      kafkaConnectionFromEnv(
        env({ KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_PROVIDER: provider }),
      ),
    ).toThrow(
      `KAFKA_SASL_OAUTHBEARER_PROVIDER: ${provider} has no oauthBearerProvider function export`,
    );
  });

  it('should be what the kafkajs client is configured with', () => {
    const connection = kafkaConnectionFromEnv(
      env({
        KAFKA_SSL: true,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'platform',
        KAFKA_SASL_PASSWORD: 'secret',
      }),
    );
    expect(kafkaClientConfig({ ...connection, clientId: 'svc' })).toMatchObject(connection);
  });
});
