/* eslint-disable no-restricted-imports -- the CLI runs the usage-aggregator's own rebuild */
import { dataSourceOptions } from '@lib/database';
import { DataSource } from 'typeorm';
import { USAGE_SCHEMA } from '../../apps/usage-aggregator/src/database/migrations';
import { rebuildUsage, type TruthFile } from '../../apps/usage-aggregator/src/usage/usage-rebuild';
/* eslint-enable no-restricted-imports */
import { CliError, databaseFromEnv, requireEnv } from './cli-env';

const PAGE = 1_000;

/**
 * `rebuild-usage`: recomputes the usage aggregates from object-metadata's census of live files (every kind),
 * read over its internal HTTP API (OBJECT_METADATA_URL), into the usage schema (DATABASE_URL).
 */
export async function runRebuildUsage(opts: { org?: string }): Promise<{ files: number }> {
  const database = databaseFromEnv('to write the usage schema');
  const metadataUrl = requireEnv('OBJECT_METADATA_URL', 'to read the live files');
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
    const files = await rebuildUsage(
      dataSource,
      async (cursor) => {
        const query = new URLSearchParams({ limit: String(PAGE) });
        if (opts.org) query.set('orgId', opts.org);
        if (cursor) query.set('cursor', cursor);
        const res = await fetch(`${metadataUrl}/internal/files/live?${query.toString()}`);
        if (!res.ok) {
          throw new CliError(`object-metadata answered ${res.status}: ${await res.text()}`);
        }
        return (await res.json()) as { files: TruthFile[]; nextCursor: string | null };
      },
      { orgId: opts.org },
    );
    return { files };
  } finally {
    await dataSource.destroy();
  }
}
