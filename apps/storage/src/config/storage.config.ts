import { appConfig, defineConfig, httpConfig, s3Config, serviceTokensConfig } from '@lib/config';
import { StorageEnv } from './storage.env';

/** The storage service's config, built once from its validated environment (`StorageEnv`). */
export class StorageConfig extends defineConfig(StorageEnv, (env) => ({
  app: appConfig(env),
  http: httpConfig(env),
  serviceTokens: serviceTokensConfig(env),
  s3: s3Config(env),
})) {}
