import {
  AUTH_OPTIONS,
  type AuthOptions,
  AuthGuard,
  CREDENTIAL_STORE,
  JwtIssuer,
  JwtVerifier,
  WORKFLOW_DIRECTORY,
} from '@lib/auth';
import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig, RedisConfig } from '@lib/config';
import { GatewayConfig } from '../config/gateway.config';
import { FlowOrchestratorWorkflowDirectory } from '../flows/workflow-directory';
import type { authConfig } from './auth.env';
import { CachedCredentialStore } from './cached-credential-store.service';
import { CredentialInvalidationService } from './credential-invalidation.service';
import { IDENTITY_CONNECTION, identityDataSourceOptions } from './identity-data-source';
import { IdentityRepository } from './identity.repository';
import { IdentityService, JWT_ISSUER } from './identity.service';

/** What identities read of the gateway's config (`GatewayConfig`, its injection token). */
export interface IdentityConfig {
  database: DatabaseConfig;
  redis: RedisConfig;
  auth: ReturnType<typeof authConfig>;
}

/**
 * Identities (orgs, users, API keys) and everything `@lib/auth`'s guard needs. Global, so any gateway
 * module can put `@Authenticated(...)` on its controllers without importing it.
 *
 * Owns its data source (named `identity`, schema `identity`), built from the `database` config, and reads
 * the `auth` and `redis` sections of the gateway's config.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      name: IDENTITY_CONNECTION,
      inject: [GatewayConfig],
      useFactory: ({ database }: IdentityConfig) => ({
        ...identityDataSourceOptions(
          { url: database.url, caFile: database.caFile },
          { poolSize: database.poolSize },
        ),
        name: IDENTITY_CONNECTION,
        // Fail fast at boot instead of nine silent retries; the orchestrator restarts the pod.
        retryAttempts: 2,
        retryDelay: 1_000,
      }),
    }),
  ],
  providers: [
    IdentityRepository,
    IdentityService,
    CachedCredentialStore,
    AuthGuard,
    { provide: CREDENTIAL_STORE, useExisting: CachedCredentialStore },
    { provide: WORKFLOW_DIRECTORY, useClass: FlowOrchestratorWorkflowDirectory },
    {
      provide: CredentialInvalidationService,
      inject: [GatewayConfig],
      useFactory: ({ redis }: IdentityConfig) =>
        new CredentialInvalidationService({
          redisUrl: redis.url,
          subscribe: true,
        }),
    },
    {
      provide: JwtVerifier,
      inject: [GatewayConfig],
      useFactory: ({ auth }: IdentityConfig) => JwtVerifier.fromEnv(auth.jwt),
    },
    {
      provide: JWT_ISSUER,
      inject: [GatewayConfig],
      useFactory: ({ auth }: IdentityConfig) => JwtIssuer.fromEnv(auth.jwt),
    },
    {
      provide: AUTH_OPTIONS,
      inject: [GatewayConfig],
      useFactory: ({ auth }: IdentityConfig): AuthOptions => ({
        operatorToken: auth.operatorToken,
      }),
    },
  ],
  exports: [
    IdentityService,
    AuthGuard,
    CREDENTIAL_STORE,
    WORKFLOW_DIRECTORY,
    JwtVerifier,
    AUTH_OPTIONS,
    CredentialInvalidationService,
  ],
})
export class IdentityModule {}
