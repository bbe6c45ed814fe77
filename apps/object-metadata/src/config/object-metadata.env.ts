import { AppEnv, WithDatabase, WithKafka } from '@lib/config';

export class ObjectMetadataEnv extends WithKafka(WithDatabase(AppEnv)) {}
