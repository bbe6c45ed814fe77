import { EVENTS_CONSUMER_MIGRATIONS } from '@lib/events';
import { CreateUsage1764000000100 } from './1764000000100-create-usage';
import { UsageBreakdown1767000000000 } from './1767000000000-usage-breakdown';

/** WARNING: persisted name. The Postgres schema usage-aggregator owns. */
export const USAGE_SCHEMA = 'usage';

export const usageMigrations = [
  ...EVENTS_CONSUMER_MIGRATIONS,
  CreateUsage1764000000100,
  UsageBreakdown1767000000000,
];
