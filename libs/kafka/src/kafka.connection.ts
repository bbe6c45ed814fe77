import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import { InvalidEnvironmentError, type KafkaOnlyEnv } from '@lib/config';

/**
 * How to reach the brokers: what every kafkajs client of the platform (`createKafka`,
 * `createRelayKafka`) and the readiness check `kafkaCheck` take.
 */
export interface KafkaConnection {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** TLS options (CA, client certificate) when the brokers speak TLS; absent: plaintext. */
  ssl?: ConnectionOptions;
  /** SASL authentication; absent: none. */
  sasl?: SASLOptions;
}

/** The settings that say how to reach the brokers (the prefixes are `KafkaNames`'). */
export type KafkaConnectionEnv = Omit<KafkaOnlyEnv, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_GROUP_PREFIX'>;

type OauthBearerProvider = () => Promise<OauthbearerProviderResponse>;

/**
 * The connection the validated Kafka settings (`WithKafka` of @lib/config) describe. The TLS files are read
 * and the OAUTHBEARER provider module is loaded here, once: call it at boot, so that a file that is not
 * PEM or a module without the hook stops the process with an error naming the variable.
 */
export function kafkaConnectionFromEnv(env: KafkaConnectionEnv): KafkaConnection {
  return {
    brokers: env.KAFKA_BROKERS.split(','),
    ssl: env.KAFKA_SSL ? tlsOptions(env) : undefined,
    sasl: saslOptions(env),
  };
}

function tlsOptions(env: KafkaConnectionEnv): ConnectionOptions {
  const { KAFKA_SSL_CA_FILE: ca, KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key } = env;
  return {
    ...(ca ? { ca: pem('KAFKA_SSL_CA_FILE', ca, 'CERTIFICATE') } : {}),
    ...(cert || key
      ? {
          cert: pem('KAFKA_SSL_CERT_FILE', cert, 'CERTIFICATE'),
          key: pem('KAFKA_SSL_KEY_FILE', key, 'PRIVATE KEY'),
        }
      : {}),
  };
}

function saslOptions(env: KafkaConnectionEnv): SASLOptions | undefined {
  const mechanism = env.KAFKA_SASL_MECHANISM;
  switch (mechanism) {
    case undefined:
      return undefined;
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      return {
        mechanism,
        username: required('KAFKA_SASL_USERNAME', env.KAFKA_SASL_USERNAME),
        password: required('KAFKA_SASL_PASSWORD', env.KAFKA_SASL_PASSWORD),
      };
    case 'oauthbearer':
      return {
        mechanism,
        oauthBearerProvider: loadOauthBearerProvider(
          required('KAFKA_SASL_OAUTHBEARER_PROVIDER', env.KAFKA_SASL_OAUTHBEARER_PROVIDER),
        ),
      };
  }
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new InvalidEnvironmentError([`${name} is required`]);
  return value;
}

/** The file's text, which must hold a PEM block of `label` (`-----BEGIN CERTIFICATE-----`, ...). */
function pem(name: string, path: string | undefined, label: string): string {
  const text = readFileSync(required(name, path), 'utf8');
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    throw new InvalidEnvironmentError([`${name}: ${path} holds no PEM ${label.toLowerCase()}`]);
  }
  return text;
}

function loadOauthBearerProvider(file: string): OauthBearerProvider {
  const path = resolve(file);
  // The module the environment names, loaded once, at boot.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path) as { oauthBearerProvider?: unknown };
  if (typeof loaded.oauthBearerProvider !== 'function') {
    throw new InvalidEnvironmentError([
      `KAFKA_SASL_OAUTHBEARER_PROVIDER: ${path} has no oauthBearerProvider function export`,
    ]);
  }
  return loaded.oauthBearerProvider as OauthBearerProvider;
}
