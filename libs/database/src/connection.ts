import { readFileSync } from 'node:fs';
import { InvalidEnvironmentError } from '@lib/config';

/** Where and how a process reaches Postgres: DATABASE_URL and DATABASE_CA_FILE. */
export interface PostgresConnection {
  /** `postgres://user:password@host:port/database`; `sslmode` may be `verify-full` or `disable`. */
  url: string;
  /**
   * PEM bundle of the CA(s) that signed the server's certificate (a private CA). With it every connection
   * uses TLS and checks the server's certificate against these CAs only, and its host name.
   */
  caFile?: string;
}

/** The `connectionString` and `ssl` of a pg Client or Pool (TypeORM: `url` and `ssl`). */
export interface PgConnectionConfig {
  connectionString: string;
  /** No TLS, or TLS verifying the server (Node's checks: chain to `ca`, else the public CAs; host name). */
  ssl: false | { ca?: string; rejectUnauthorized: true };
}

/**
 * The one mapping from the platform's Postgres settings to pg's options, for every connection (the apps'
 * DataSources, migrations, the CLI, hence the outbox relay's LISTEN connection taken from a DataSource's pool):
 *
 * - `DATABASE_CA_FILE` set: TLS, the server's certificate verified against that CA bundle and its host name
 *   (the URL's host: a DNS name or IP address of its subjectAltName); a server without TLS is refused.
 * - else `sslmode=verify-full` in the URL: the same, against Node's built-in public CAs.
 * - else (no `sslmode`, or `sslmode=disable`): no TLS.
 *
 * The URL's other ssl parameters are refused: `require`, `prefer`, `verify-ca` and `no-verify` mean different
 * things to pg and libpq (and the weaker ones skip verification), `sslrootcert` is what DATABASE_CA_FILE is
 * for. `sslmode` is taken out of the URL pg gets, so that pg's own parsing does not replace `ssl`. PGSSLMODE is
 * not read. Throws `InvalidEnvironmentError` for settings it refuses or a CA file it cannot read.
 */
export function pgConnectionConfig(connection: PostgresConnection): PgConnectionConfig {
  const url = parseUrl(connection.url);
  const sslmode = url.searchParams.get('sslmode');
  const problem = tlsSettingsProblem(url, sslmode, connection.caFile);
  if (problem !== undefined) throw new InvalidEnvironmentError([problem]);
  url.searchParams.delete('sslmode');
  const connectionString = sslmode === null ? connection.url : url.toString();
  if (connection.caFile !== undefined) {
    return {
      connectionString,
      ssl: { ca: readCaFile(connection.caFile), rejectUnauthorized: true },
    };
  }
  return {
    connectionString,
    ssl: sslmode === 'verify-full' ? { rejectUnauthorized: true } : false,
  };
}

function parseUrl(value: string): URL {
  try {
    return new URL(value);
  } catch {
    // Not repeated: the value may hold a password.
    throw new InvalidEnvironmentError(['DATABASE_URL is not a URL']);
  }
}

/** What is wrong with the URL's ssl parameters and DATABASE_CA_FILE together, if anything. */
function tlsSettingsProblem(
  url: URL,
  sslmode: string | null,
  caFile: string | undefined,
): string | undefined {
  const refused = [...url.searchParams.keys()].filter(
    (name) => (name.startsWith('ssl') && name !== 'sslmode') || name === 'uselibpqcompat',
  );
  if (refused.length > 0) {
    return `DATABASE_URL: ${refused.join(', ')} not supported: TLS is set by sslmode=verify-full and DATABASE_CA_FILE`;
  }
  if (sslmode !== null && sslmode !== 'verify-full' && sslmode !== 'disable') {
    return (
      `DATABASE_URL: sslmode=${sslmode} not supported: use sslmode=verify-full (and DATABASE_CA_FILE for a ` +
      'private CA), or no sslmode for no TLS'
    );
  }
  if (sslmode === 'disable' && caFile !== undefined) {
    return 'DATABASE_URL has sslmode=disable but DATABASE_CA_FILE asks for TLS';
  }
  return undefined;
}

function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidEnvironmentError([
      `DATABASE_CA_FILE: cannot read ${path}: ${(err as Error).message}`,
    ]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InvalidEnvironmentError([`DATABASE_CA_FILE: ${path} holds no PEM certificate`]);
  }
  return pem;
}
