import { JwtIssuer } from '@lib/auth';
import { DataSource } from 'typeorm';
import { CliError, databaseFromEnv, optionalEnv, requireEnv } from './cli-env';
import {
  CredentialInvalidationService,
  IdentityRepository,
  IdentityService,
  identityDataSourceOptions,
} from './gateway';

export interface IdentityContext {
  identity: IdentityService;
  /** True when invalidations reach running gateways through Redis (REDIS_URL set). */
  broadcasts: boolean;
}

/**
 * The gateway's own IdentityService, built by hand over a small data source: the CLI runs the same
 * rules and SQL as the admin endpoints, without booting Nest.
 */
export async function withIdentity<T>(
  run: (ctx: IdentityContext) => Promise<T>,
  options: { needsJwtSecret?: boolean } = {},
): Promise<T> {
  const database = databaseFromEnv('to reach the identity schema');
  if (options.needsJwtSecret)
    requireEnv('JWT_SECRET', 'to sign HS256 JWTs (the gateway must use the same one)');
  const jwtIssuer = JwtIssuer.fromEnv({
    JWT_SECRET: optionalEnv('JWT_SECRET') ?? undefined,
    JWT_ISSUER: optionalEnv('JWT_ISSUER') ?? undefined,
    JWT_AUDIENCE: optionalEnv('JWT_AUDIENCE') ?? undefined,
    JWT_MAX_LIFETIME_SECONDS: maxLifetimeFromEnv(),
  });
  const dataSource = new DataSource(
    identityDataSourceOptions(database, { poolSize: 2, applicationName: 'admin-cli' }),
  );
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new CliError(`cannot connect to Postgres (DATABASE_URL): ${(e as Error).message}`);
  }
  const redisUrl = optionalEnv('REDIS_URL');
  const invalidations = new CredentialInvalidationService({ redisUrl, subscribe: false });
  try {
    const identity = new IdentityService(
      new IdentityRepository(dataSource),
      invalidations,
      jwtIssuer,
    );
    return await run({ identity, broadcasts: redisUrl !== null });
  } finally {
    await invalidations.close();
    await dataSource.destroy();
  }
}

/** The gateway's JWT_MAX_LIFETIME_SECONDS, if set: the CLI issues no token the gateway would refuse. */
function maxLifetimeFromEnv(): number | undefined {
  const raw = optionalEnv('JWT_MAX_LIFETIME_SECONDS');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new CliError('JWT_MAX_LIFETIME_SECONDS must be a whole number of seconds');
  }
  return seconds;
}
