import { AppEnv, WithS3 } from '@lib/config';
import { WithServiceTokens } from '@lib/internal-http';

export class StorageEnv extends WithServiceTokens(WithS3(AppEnv)) {}
