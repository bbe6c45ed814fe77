import { AppEnv, WithS3 } from '@lib/config';

export class StorageEnv extends WithS3(AppEnv) {}
