import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import { InvalidEnvironmentError, type KafkaConfig, type KafkaSaslConfig } from '@lib/config';

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

/** What says how to reach the brokers: the app's `kafka` config (`kafkaConfig` of @lib/config). */
export type KafkaConnectionConfig = Pick<KafkaConfig, 'brokers' | 'tls' | 'sasl'>;

type OauthBearerProvider = () => Promise<OauthbearerProviderResponse>;

/**
 * The connection the app's `kafka` config describes. The TLS files are read and the OAUTHBEARER provider
 * module is loaded here, once: call it at boot, so that a file that is not PEM or a module without the hook
 * stops the process with an error naming the variable.
 */
export function kafkaConnection(kafka: KafkaConnectionConfig): KafkaConnection {
  return {
    brokers: kafka.brokers,
    ssl: kafka.tls ? tlsOptions(kafka.tls) : undefined,
    sasl: saslOptions(kafka.sasl),
  };
}

function tlsOptions({
  caFile,
  certFile,
  keyFile,
}: NonNullable<KafkaConfig['tls']>): ConnectionOptions {
  return {
    ...(caFile ? { ca: pem('KAFKA_SSL_CA_FILE', caFile, 'CERTIFICATE') } : {}),
    ...(certFile || keyFile
      ? {
          cert: pem('KAFKA_SSL_CERT_FILE', certFile, 'CERTIFICATE'),
          key: pem('KAFKA_SSL_KEY_FILE', keyFile, 'PRIVATE KEY'),
        }
      : {}),
  };
}

function saslOptions(sasl: KafkaSaslConfig | undefined): SASLOptions | undefined {
  if (sasl === undefined) return undefined;
  return sasl.mechanism === 'oauthbearer'
    ? {
        mechanism: sasl.mechanism,
        oauthBearerProvider: loadOauthBearerProvider(sasl.oauthBearerProviderFile),
      }
    : { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
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
