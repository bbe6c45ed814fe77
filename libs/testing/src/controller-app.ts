import { Module, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createValidationPipe, HttpErrorFilter } from '@lib/errors';

/**
 * Controllers' HTTP layer in process, served as `bootstrapService` serves it (Fastify, the JSON error filter,
 * the strict validation pipe), for `supertest(app.getHttpServer())`: routes, guards, validation and status
 * codes with the services behind them replaced (strict mocks), no port, no other process.
 */
export async function startControllerApp(
  metadata: ModuleMetadata,
): Promise<NestFastifyApplication> {
  @Module(metadata)
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
  return app;
}
