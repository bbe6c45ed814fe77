import { EnvCheck } from '@lib/config';
import { privateKeyProblem, publicKeysProblem } from './service-keys';

type Ctor<T = object> = new (...args: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any

const required =
  (name: string, problem: (name: string, value: string) => string | undefined) =>
  (value: string | undefined) =>
    value === undefined
      ? `${name} is required (see docs/architecture.md, Service credentials)`
      : problem(name, value);

/**
 * The keys of service tokens, as an env fragment like `@lib/config`'s, for every app of the platform:
 * `class StorageEnv extends WithServiceTokens(WithS3(AppEnv)) {}`. `npm run cli -- service-keys` makes a set.
 */
export function WithServiceTokens<B extends Ctor>(Base: B) {
  class ServiceTokensEnv extends Base {
    /** This app's Ed25519 private key (the 32-byte seed, base64url): it signs the app's service tokens. */
    @EnvCheck(required('SERVICE_TOKEN_PRIVATE_KEY', privateKeyProblem))
    SERVICE_TOKEN_PRIVATE_KEY!: string;

    /** `gateway:<key>,object-metadata:<key>,…`: the public key of every app, the same list in each. */
    @EnvCheck(required('SERVICE_TOKEN_PUBLIC_KEYS', publicKeysProblem))
    SERVICE_TOKEN_PUBLIC_KEYS!: string;
  }
  return ServiceTokensEnv;
}
