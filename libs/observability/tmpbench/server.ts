import './instrument';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, fastifyLoggingOptions, HealthModule, installRequestId, MetricsModule, PinoLoggerService } from '@lib/observability';

@Controller('things') class C { @Get(':id') get(@Param('id') id: string) { return { id }; } }
const obs = process.env.OBS === '1' || process.env.OBS === 'logs';
@Module({ imports: obs ? [MetricsModule.forRoot({ service: 'bench' }), HealthModule.forRoot()] : [], controllers: [C] }) class M {}
async function main() {
  const logger = createLogger({ service: 'bench' });
  const adapter = new FastifyAdapter(obs ? fastifyLoggingOptions(logger) : {});
  if (obs) installRequestId(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(M, adapter, obs ? { logger: new PinoLoggerService(logger) } : { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stderr.write('ready\n');
}
void main();
