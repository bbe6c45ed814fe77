/* eslint-disable no-restricted-imports -- the CLI runs object-metadata's own quota rules and SQL */
import { dataSourceOptions } from '@lib/database';
import { DataSource } from 'typeorm';
import { OBJECT_METADATA_SCHEMA } from '../../apps/object-metadata/src/database/migrations';
import { OrgQuotasRepository } from '../../apps/object-metadata/src/quotas/org-quotas.repository';
import { StorageQuotas } from '../../apps/object-metadata/src/quotas/storage-quotas.service';
/* eslint-enable no-restricted-imports */
import { CliError, databaseFromEnv } from './cli-env';

/**
 * `quota show|set`: object-metadata's `StorageQuotas` over a small data source on its schema (DATABASE_URL),
 * the same rules and SQL as the admin endpoints behind `/admin/orgs/{orgId}/quota`.
 */
export async function withQuotas<T>(run: (quotas: StorageQuotas) => Promise<T>): Promise<T> {
  const dataSource = new DataSource(
    dataSourceOptions({
      ...databaseFromEnv('to reach the quotas'),
      schema: OBJECT_METADATA_SCHEMA,
      entities: [],
      poolSize: 1,
      applicationName: 'admin-cli',
    }),
  );
  try {
    await dataSource.initialize();
  } catch (e) {
    throw new CliError(`cannot connect to Postgres (DATABASE_URL): ${(e as Error).message}`);
  }
  try {
    return await run(new StorageQuotas(new OrgQuotasRepository(dataSource)));
  } finally {
    await dataSource.destroy();
  }
}
