import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { InvalidEnvironmentError } from '@lib/config';

/** The paths of `GATEWAY_TLS_CERT_FILE` and `GATEWAY_TLS_KEY_FILE` (the gateway's `http.tls` config). */
export interface GatewayTlsFiles {
  certFile?: string;
  keyFile?: string;
}

export interface GatewayTls {
  cert: Buffer;
  key: Buffer;
}

/**
 * The public port's TLS certificate and key, from `GATEWAY_TLS_CERT_FILE` and `GATEWAY_TLS_KEY_FILE` (PEM
 * files: the certificate chain, and its unencrypted private key). Both set: the port speaks TLS, HTTP/2 or
 * HTTP/1.1 as the client's ALPN asks; neither: cleartext. One without the other, an unreadable file, or a
 * key that does not match the certificate stops the gateway at start with the problem named.
 */
export function gatewayTls(files: GatewayTlsFiles): GatewayTls | undefined {
  const certFile = files.certFile?.trim() || undefined;
  const keyFile = files.keyFile?.trim() || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new InvalidEnvironmentError([
      'GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE must be set together (or neither, for cleartext)',
    ]);
  }
  const problems: string[] = [];
  const read = (name: string, file: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (e) {
      problems.push(`${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const cert = read('GATEWAY_TLS_CERT_FILE', certFile);
  const key = read('GATEWAY_TLS_KEY_FILE', keyFile);
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      problems.push(
        `GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE must be a PEM certificate and its key (${(e as Error).message})`,
      );
    }
  }
  if (problems.length > 0 || !cert || !key) throw new InvalidEnvironmentError(problems);
  return { cert, key };
}
