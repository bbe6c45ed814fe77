import { CreateIdentityTables1764000000000 } from './1764000000000-create-identity-tables';

/** WARNING: persisted name. The Postgres schema the gateway owns: orgs, users and API keys. */
export const IDENTITY_SCHEMA = 'identity';

/** In order; `migrateAll` (tools/cli `migrate`) runs the pending ones. */
export const identityMigrations = [CreateIdentityTables1764000000000];
