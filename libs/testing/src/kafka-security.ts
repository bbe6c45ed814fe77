import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaClusterOptions } from '../../../tools/local-servers/kafka/kafka-cluster';

export interface SaslSslKafkaSetup {
  /**
   * Options of `startKafkaCluster` / `startTestKafka`: the client listener speaks SASL_SSL (SCRAM-SHA-256
   * and SCRAM-SHA-512, one user) with a certificate for 127.0.0.1 and requires client certificates.
   */
  cluster: KafkaClusterOptions;
  /** The KAFKA_SSL* and KAFKA_SASL* settings of a client the brokers let in (SCRAM-SHA-256). */
  clientEnv: Record<string, string>;
  /** Removes the certificates and keys. */
  cleanup(): Promise<void>;
}

/**
 * A new P-256 key, `<name>-key.pem` (unencrypted PKCS#8), and its certificate for `subject`, `<name>.pem`,
 * valid one day: self-signed, or signed by the CA with `SIGNED_BY_CA` among `args`.
 */
const newCertificate = (directory: string, name: string, subject: string, ...args: string[]) =>
  promisify(execFile)(
    'openssl',
    [
      ...'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1'.split(' '),
      ...['-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-subj', subject, ...args],
    ],
    { cwd: directory, timeout: 30_000 },
  );
const SIGNED_BY_CA = ['-CA', 'ca.pem', '-CAkey', 'ca-key.pem'];

/**
 * Certificates made for the occasion in a temporary directory (a CA, the broker's certificate for
 * 127.0.0.1, a client certificate) and the broker settings of a SASL_SSL listener that checks them
 * and a SCRAM user: what production clusters ask of the platform.
 */
export async function saslSslKafkaSetup(): Promise<SaslSslKafkaSetup> {
  const directory = await mkdtemp(join(tmpdir(), 'platform-kafka-tls-'));
  try {
    await newCertificate(
      directory,
      'ca',
      '/CN=platform test CA',
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    );
    await newCertificate(
      directory,
      'broker',
      '/CN=127.0.0.1',
      ...['-addext', 'subjectAltName=IP:127.0.0.1', ...SIGNED_BY_CA],
    );
    await newCertificate(
      directory,
      'client',
      '/CN=platform',
      ...['-addext', 'extendedKeyUsage=clientAuth', ...SIGNED_BY_CA],
    );
    // Kafka's PEM key store: the (PKCS#8, unencrypted) key followed by its certificate.
    const keyStore = join(directory, 'broker-keystore.pem');
    const [key, certificate] = await Promise.all([
      readFile(join(directory, 'broker-key.pem'), 'utf8'),
      readFile(join(directory, 'broker.pem'), 'utf8'),
    ]);
    await writeFile(keyStore, `${key}${certificate}`);

    const username = 'platform';
    const password = randomBytes(12).toString('hex');
    const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    return {
      cluster: {
        clientProtocol: 'SASL_SSL',
        properties: {
          'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
          'listener.name.client.scram-sha-256.sasl.jaas.config': scram,
          'listener.name.client.scram-sha-512.sasl.jaas.config': scram,
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': keyStore,
          'ssl.truststore.type': 'PEM',
          'ssl.truststore.location': join(directory, 'ca.pem'),
          // On a SASL_SSL listener, client authentication is only read with the listener prefix.
          'listener.name.client.ssl.client.auth': 'required',
        },
        formatArgs: [
          '--add-scram',
          `SCRAM-SHA-256=[name=${username},password=${password}]`,
          '--add-scram',
          `SCRAM-SHA-512=[name=${username},password=${password}]`,
        ],
      },
      clientEnv: {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: join(directory, 'ca.pem'),
        KAFKA_SSL_CERT_FILE: join(directory, 'client.pem'),
        KAFKA_SSL_KEY_FILE: join(directory, 'client-key.pem'),
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: username,
        KAFKA_SASL_PASSWORD: password,
      },
      cleanup: () => rm(directory, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
}
