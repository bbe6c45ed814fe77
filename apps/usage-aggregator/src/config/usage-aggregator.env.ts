import { AppEnv, WithDatabase, WithKafka } from '@lib/config';

export class UsageAggregatorEnv extends WithKafka(WithDatabase(AppEnv)) {}
