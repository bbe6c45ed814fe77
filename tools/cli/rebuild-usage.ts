/* eslint-disable no-restricted-imports -- the CLI runs the usage-aggregator's own rebuild */
import type { ServicePrincipal } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { ServiceTokens } from '@lib/internal-http';
import { DataSource } from 'typeorm';
import { USAGE_SCHEMA } from '../../apps/usage-aggregator/src/database/migrations';
import { rebuildUsage, type TruthFile } from '../../apps/usage-aggregator/src/usage/usage-rebuild';
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
  try {
    let files = 0;
    for (const org of orgs) {
      const principal: ServicePrincipal = {
        orgId: org.id,
        orgKey: org.key,
        userId: null,
        role: null,
        actor: { type: 'system', id: 'usage-aggregator' },
        workflowId: null,
      };
      files += await rebuildUsage(dataSource, org.id, async (cursor) => {
        const query = new URLSearchParams({ limit: String(PAGE) });
        if (cursor) query.set('cursor', cursor);
        const res = await fetch(`${metadataUrl}/internal/files/live?${query.toString()}`, {
          headers: { authorization: `Bearer ${tokens.sign('object-metadata', principal)}` },
        });
        if (!res.ok) {
          throw new CliError(`object-metadata answered ${res.status}: ${await res.text()}`);
        }
        return (await res.json()) as { files: TruthFile[]; nextCursor: string | null };
      });
    }
    return { files };
  } finally {
    await dataSource.destroy();
  }
}
