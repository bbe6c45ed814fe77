/* eslint-disable no-restricted-imports -- the CLI runs the usage-aggregator's own rebuild */
import { ObjectMetadataClient } from '@lib/clients';
import { recordPrincipal } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { DomainException } from '@lib/errors';
import { ServiceTokens } from '@lib/internal-http';
import { DataSource } from 'typeorm';
import { USAGE_SCHEMA } from '../../apps/usage-aggregator/src/database/migrations';
import { rebuildUsage } from '../../apps/usage-aggregator/src/usage/usage-rebuild';
/* eslint-enable no-restricted-imports */
import { CliError, databaseFromEnv, requireEnv } from './cli-env';
import { withIdentity } from './identity-context';

const PAGE = 1_000;

/**
 * `rebuild-usage`: recomputes the usage aggregates of one org, or of every org one after the other, from
 * object-metadata's census of the org's live files (every kind), read over its internal HTTP API
 * (OBJECT_METADATA_URL) as the usage-aggregator (its service token keys), into the usage schema
 * (DATABASE_URL); the orgs are the identity schema's.
 */
export async function runRebuildUsage(opts: { org?: string }): Promise<{ files: number }> {
  const database = databaseFromEnv('to write the usage schema');
  const metadataUrl = requireEnv('OBJECT_METADATA_URL', 'to read the live files');
  const why = "to read object-metadata's census as the usage-aggregator";
  const tokens = ServiceTokens.fromEnv('usage-aggregator', {
    SERVICE_TOKEN_PRIVATE_KEY: requireEnv('SERVICE_TOKEN_PRIVATE_KEY', why),
    SERVICE_TOKEN_PUBLIC_KEYS: requireEnv('SERVICE_TOKEN_PUBLIC_KEYS', why),
  });
  const orgs = await withIdentity(async ({ identity }) =>
    opts.org ? [await identity.findOrg(opts.org)] : identity.listOrgs(),
  );
  const dataSource = new DataSource(
    dataSourceOptions({
      ...database,
      schema: USAGE_SCHEMA,
      entities: [],
      poolSize: 2,
      applicationName: 'rebuild-usage',
    }),
  );
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new CliError(`cannot connect to Postgres (DATABASE_URL): ${(e as Error).message}`);
  }
  const metadata = ObjectMetadataClient.connect({ baseUrl: metadataUrl, tokens });
  try {
    let files = 0;
    for (const org of orgs) {
      const principal = recordPrincipal(
        { orgId: org.id, orgKey: org.key },
        { type: 'system', id: 'usage-aggregator' },
      );
      files += await rebuildUsage(dataSource, org.id, async (cursor) => {
        try {
          return await metadata.liveFiles(principal, { limit: PAGE, cursor: cursor || undefined });
        } catch (e) {
          if (!(e instanceof DomainException)) throw e;
          throw new CliError(`object-metadata answered ${e.status}: ${e.message}`);
        }
      });
    }
    return { files };
  } finally {
    await metadata.close();
    await dataSource.destroy();
  }
}
