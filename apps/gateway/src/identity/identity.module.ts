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
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowOrchestratorWorkflowDirectory } from '../flows/workflow-directory';
import type { IdentityEnv } from './auth.env';
import { CachedCredentialStore } from './cached-credential-store.service';
import { CredentialInvalidationService } from './credential-invalidation.service';
import { IDENTITY_CONNECTION, identityDataSourceOptions } from './identity-data-source';
import { IdentityRepository } from './identity.repository';
import { IdentityService, JWT_ISSUER } from './identity.service';

type Config = ConfigService<IdentityEnv, true>;

/**
 * Identities (orgs, users, API keys) and everything `@lib/auth`'s guard needs. Global, so any gateway
 * module can put `@Authenticated(...)` on its controllers without importing it.
 *
 * Owns its data source (named `identity`, schema `identity`), built from DATABASE_URL, and reads the
 * auth variables of `WithAuth` plus REDIS_URL from the global ConfigService.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      name: IDENTITY_CONNECTION,
      inject: [ConfigService],
      useFactory: (config: Config) => ({
        ...identityDataSourceOptions(
          {
            url: config.get('DATABASE_URL', { infer: true }),
            caFile: config.get('DATABASE_CA_FILE', { infer: true }),
          },
          { poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }) },
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
      inject: [ConfigService],
      useFactory: (config: Config) =>
        new CredentialInvalidationService({
          redisUrl: config.get('REDIS_URL', { infer: true }),
          subscribe: true,
        }),
    },
    {
      provide: JwtVerifier,
      inject: [ConfigService],
      useFactory: (config: Config) => JwtVerifier.fromEnv(jwtEnv(config)),
    },
    {
      provide: JWT_ISSUER,
      inject: [ConfigService],
      useFactory: (config: Config) => JwtIssuer.fromEnv(jwtEnv(config)),
    },
    {
      provide: AUTH_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: Config): AuthOptions => ({
        operatorToken: config.get('OPERATOR_TOKEN', { infer: true }),
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

function jwtEnv(config: Config) {
  return {
    JWT_SECRET: config.get('JWT_SECRET', { infer: true }),
    JWT_JWKS_URL: config.get('JWT_JWKS_URL', { infer: true }),
    JWT_ISSUER: config.get('JWT_ISSUER', { infer: true }),
    JWT_AUDIENCE: config.get('JWT_AUDIENCE', { infer: true }),
    JWT_MAX_LIFETIME_SECONDS: config.get('JWT_MAX_LIFETIME_SECONDS', { infer: true }),
  };
}
