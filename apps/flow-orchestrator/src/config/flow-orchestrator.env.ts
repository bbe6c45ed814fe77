import { AppEnv, WithDatabase, WithKafka, WithRedis } from '@lib/config';

export class FlowOrchestratorEnv extends WithKafka(WithRedis(WithDatabase(AppEnv))) {}
