import { Global, Module, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PlatformConfig } from '@lib/config';
import type { ServicePrincipal } from '@lib/contracts';
import { createValidationPipe, HttpErrorFilter } from '@lib/errors';
import {
  generateServiceKeys,
  type ServiceName,
  ServiceTokens,
  ServiceTokensModule,
} from '@lib/internal-http';

export interface ControllerApp {
  app: NestFastifyApplication;
  /** A service token of `caller` for the app, acting for `principal`: `authorization: Bearer …`. */
  bearer(caller: ServiceName, principal?: ServicePrincipal): string;
}

/**
 * An app's controllers' HTTP layer in process, served as `bootstrapService` serves it (Fastify, the JSON
 * error filter, the strict validation pipe, the service-token guard of `service` with keys made for the
 * test), for `supertest(app.getHttpServer())`: routes, guards, validation and status codes, with the
 * services behind the controllers replaced (strict mocks). No port, no other process.
 */
export async function startControllerApp(
  service: ServiceName,
  metadata: Pick<ModuleMetadata, 'controllers' | 'providers'>,
): Promise<ControllerApp> {
  const keys = generateServiceKeys();
  // The app's config as ServiceTokensModule reads it: the keys of the test.
  const config = {
    serviceTokens: { privateKey: keys.privateKeys[service], publicKeys: keys.publicKeys },
  };
  @Global()
  @Module({
    providers: [{ provide: PlatformConfig, useValue: config }],
    exports: [PlatformConfig],
  })
  class ControllerTestConfigModule {}
  @Module({
    imports: [ControllerTestConfigModule, ServiceTokensModule.forApp(service)],
    ...metadata,
  })
  class ControllerTestModule {}
  const app = await NestFactory.create<NestFastifyApplication>(
    ControllerTestModule,
    new FastifyAdapter(),
    { logger: false, abortOnError: false },
  );
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalPipes(createValidationPipe());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    bearer: (caller, principal) =>
      `Bearer ${ServiceTokens.fromEnv(caller, {
        SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeys[caller],
        SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeys,
      }).sign(service, principal)}`,
  };
}
