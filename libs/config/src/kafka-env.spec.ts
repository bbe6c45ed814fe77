import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaOnlyEnv } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

const validate = validateEnv(KafkaOnlyEnv);
const base = { KAFKA_BROKERS: 'kafka-1:9093,kafka-2:9093' };

/** The problems `validate` reports for `raw`, none when it passes. */
function problems(raw: Record<string, string>): string[] {
  try {
    validate(raw);
    return [];
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems;
    throw error;
  }
}

describe('WithKafka', () => {
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  let provider: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kafka-env-'));
    [ca, cert, key, provider] = ['ca.pem', 'client.pem', 'client-key.pem', 'token.js'].map((f) => {
      writeFileSync(join(dir, f), 'x');
      return join(dir, f);
    });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should default to plaintext without SASL', () => {
    const env = validate(base);
    expect(env).toMatchObject({ KAFKA_BROKERS: base.KAFKA_BROKERS, KAFKA_SSL: false });
    expect(env.KAFKA_SASL_MECHANISM).toBeUndefined();
  });

  it('should accept TLS with a CA and a client certificate, and SASL with its credentials', () => {
    const env = validate({
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SSL_CERT_FILE: cert,
      KAFKA_SSL_KEY_FILE: key,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'platform',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    expect(env).toMatchObject({
      KAFKA_SSL: true,
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SASL_USERNAME: 'platform',
    });
    expect(problems({ ...base, KAFKA_SSL: '1' })).toEqual([]);
    expect(
      problems({
        ...base,
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_PROVIDER: provider,
      }),
    ).toEqual([]);
  });

  it('should treat empty variables as unset', () => {
    expect(
      problems({
        ...base,
        KAFKA_SSL_CA_FILE: '',
        KAFKA_SSL_CERT_FILE: '',
        KAFKA_SSL_KEY_FILE: '',
        KAFKA_SASL_MECHANISM: '',
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_PASSWORD: '',
        KAFKA_SASL_OAUTHBEARER_PROVIDER: '',
      }),
    ).toEqual([]);
  });

  it('should refuse a KAFKA_SSL that is not a boolean and an unknown mechanism', () => {
    expect(problems({ ...base, KAFKA_SSL: 'yes' })).toEqual(['KAFKA_SSL must be true or false']);
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'gssapi' })).toEqual([
      'KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, oauthbearer',
    ]);
  });

  it('should refuse TLS files without KAFKA_SSL=true', () => {
    expect(problems({ ...base, KAFKA_SSL_CA_FILE: ca })).toEqual([
      'KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true',
    ]);
  });

  it('should refuse a client certificate without its key, and a key without its certificate', () => {
    const ssl = { ...base, KAFKA_SSL: 'true' };
    expect(problems({ ...ssl, KAFKA_SSL_CERT_FILE: cert })).toEqual([
      'KAFKA_SSL_KEY_FILE must be set with KAFKA_SSL_CERT_FILE (a client certificate needs both)',
    ]);
    expect(problems({ ...ssl, KAFKA_SSL_KEY_FILE: key })).toEqual([
      'KAFKA_SSL_CERT_FILE must be set with KAFKA_SSL_KEY_FILE (a client certificate needs both)',
    ]);
  });

  it('should refuse files that do not exist or are not files, naming the variable', () => {
    const missing = join(dir, 'missing.pem');
    expect(
      problems({
        ...base,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: missing,
        KAFKA_SSL_CERT_FILE: dir,
        KAFKA_SSL_KEY_FILE: key,
      }),
    ).toEqual([
      `KAFKA_SSL_CA_FILE must name a readable file: ENOENT: no such file or directory, access '${missing}'`,
      `KAFKA_SSL_CERT_FILE must name a file: ${dir} is not one`,
    ]);
    expect(
      problems({
        ...base,
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_PROVIDER: missing,
      }),
    ).toEqual([
      `KAFKA_SASL_OAUTHBEARER_PROVIDER must name a readable file: ENOENT: no such file or directory, access '${missing}'`,
    ]);
  });

  it('should require the username and password of plain and SCRAM', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      expect(problems({ ...base, KAFKA_SASL_MECHANISM: mechanism })).toEqual([
        `KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISM=${mechanism}`,
        `KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISM=${mechanism}`,
      ]);
    }
    expect(
      problems({ ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'platform' }),
    ).toEqual(['KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISM=plain']);
  });

  it('should require the provider module of OAUTHBEARER', () => {
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'oauthbearer' })).toEqual([
      'KAFKA_SASL_OAUTHBEARER_PROVIDER is required with KAFKA_SASL_MECHANISM=oauthbearer',
    ]);
  });

  it('should refuse SASL settings the mechanism does not read', () => {
    expect(
      problems({ ...base, KAFKA_SASL_USERNAME: 'platform', KAFKA_SASL_PASSWORD: 'secret' }),
    ).toEqual([
      'KAFKA_SASL_USERNAME is only read with KAFKA_SASL_MECHANISM plain or scram-sha-256 or scram-sha-512',
      'KAFKA_SASL_PASSWORD is only read with KAFKA_SASL_MECHANISM plain or scram-sha-256 or scram-sha-512',
    ]);
    expect(
      problems({
        ...base,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'platform',
        KAFKA_SASL_PASSWORD: 'secret',
        KAFKA_SASL_OAUTHBEARER_PROVIDER: provider,
      }),
    ).toEqual([
      'KAFKA_SASL_OAUTHBEARER_PROVIDER is only read with KAFKA_SASL_MECHANISM oauthbearer',
    ]);
  });

  it('should name topics and groups without a prefix by default, and take an environment prefix', () => {
    expect(validate(base)).toMatchObject({ KAFKA_TOPIC_PREFIX: '', KAFKA_GROUP_PREFIX: '' });
    expect(
      validate({ ...base, KAFKA_TOPIC_PREFIX: 'staging.', KAFKA_GROUP_PREFIX: 'staging-eu_1.' }),
    ).toMatchObject({ KAFKA_TOPIC_PREFIX: 'staging.', KAFKA_GROUP_PREFIX: 'staging-eu_1.' });
  });

  it('should refuse a prefix with characters Kafka names may not hold, or too long', () => {
    expect(
      problems({ ...base, KAFKA_TOPIC_PREFIX: 'staging/', KAFKA_GROUP_PREFIX: 'x'.repeat(101) }),
    ).toEqual([
      'KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)',
      'KAFKA_GROUP_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)',
    ]);
  });
});
