import { EVENTS_CONSUMER_MIGRATIONS } from '@lib/events';
import { CreateUsage1764000000100 } from './1764000000100-create-usage';

/** WARNING: persisted name. The Postgres schema usage-aggregator owns. */
export const USAGE_SCHEMA = 'usage';

export const usageMigrations = [...EVENTS_CONSUMER_MIGRATIONS, CreateUsage1764000000100];
