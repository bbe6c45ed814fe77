import type {
  AppConfig,
  DatabaseConfig,
  HttpConfig,
  KafkaConfig,
  RedisConfig,
  S3Config,
  ServiceTokensConfig,
} from './config-sections';
import { validateEnv } from './validate-env';

/** The sections of an app's config that the shared libs read (each app has the ones it needs). */
export interface PlatformSections {
  app: AppConfig;
  http: HttpConfig;
  serviceTokens?: ServiceTokensConfig;
  database?: DatabaseConfig;
  redis?: RedisConfig;
  kafka?: KafkaConfig;
  s3?: S3Config;
}

/**
 * An app's config class: the Nest injection token of its config object (a constructor parameter typed with
 * it gets the object), and the loader that validates the environment and builds the object.
 */
export interface ConfigClass<C extends object, E extends object = object> {
  new (): C;
  prototype: C;
  /**
   * The app's config, validated and built from the process environment once (later calls return the same
   * object), or from `raw` (built anew each call). Throws `InvalidEnvironmentError` naming every bad variable.
   */
  load(raw?: Record<string, unknown>): C;
  /** The validated environment the config was built from (`load` first). */
  env(): E;
}

/**
 * Defines an app's config: `envClass` (its env fragments) validates the variables, `build` maps them to
 * the nested, typed object the app reads. `class GatewayConfig extends defineConfig(GatewayEnv, build) {}`.
 */
export function defineConfig<E extends object, C extends object>(
  envClass: new () => E,
  build: (env: E) => C,
): ConfigClass<C, E> {
  const validate = validateEnv(envClass);
  let loaded: { env: E; config: C } | undefined;
  const fromEnv = (raw: Record<string, unknown>) => {
    const env = validate(raw);
    return { env, config: build(env) };
  };
  const processEnv = () => (loaded ??= fromEnv(process.env));
  class Config {
    static load(raw?: Record<string, unknown>): C {
      return raw === undefined ? processEnv().config : fromEnv(raw).config;
    }

    static env(): E {
      return processEnv().env;
    }
  }
  return Config as unknown as ConfigClass<C, E>;
}

/** What the shared libs inject: the app's config, seen through the sections they read. */
export abstract class PlatformConfig {
  abstract readonly app: AppConfig;
  abstract readonly http: HttpConfig;
  abstract readonly serviceTokens?: ServiceTokensConfig;
  abstract readonly database?: DatabaseConfig;
  abstract readonly redis?: RedisConfig;
  abstract readonly kafka?: KafkaConfig;
  abstract readonly s3?: S3Config;
}

/** The `section` of an app's config a shared module needs: a wiring mistake stops the app at boot. */
export function configSection<K extends keyof PlatformSections>(
  config: PlatformSections,
  section: K,
): NonNullable<PlatformSections[K]> {
  const value = config[section];
  if (value === undefined) throw new Error(`The app's config has no ${section} section`);
  return value;
}
