/* eslint-disable no-restricted-imports -- each app's migrations are listed here for `migrate` */
import type { DatabaseSettings } from '@lib/database';
import { FLOW_SCHEMA, flowMigrations } from '../../apps/flow-orchestrator/src/database/migrations';
import { IDENTITY_SCHEMA, identityMigrations } from '../../apps/gateway/src/database/migrations';
import {
  OBJECT_METADATA_SCHEMA,
  objectMetadataMigrations,
} from '../../apps/object-metadata/src/database/migrations';
import { USAGE_SCHEMA, usageMigrations } from '../../apps/usage-aggregator/src/database/migrations';
/* eslint-enable no-restricted-imports */

/**
 * Every service schema and its migrations, in the order `migrate` runs them. Each app that owns a
 * schema has one entry here; the URL comes from DATABASE_URL at run time.
 */
export const migrationSources: Omit<DatabaseSettings, 'entities' | 'url'>[] = [
  { schema: IDENTITY_SCHEMA, migrations: identityMigrations, applicationName: 'migrate' },
  {
    schema: OBJECT_METADATA_SCHEMA,
    migrations: objectMetadataMigrations,
    applicationName: 'migrate',
  },
  { schema: FLOW_SCHEMA, migrations: flowMigrations, applicationName: 'migrate' },
  { schema: USAGE_SCHEMA, migrations: usageMigrations, applicationName: 'migrate' },
];
