import {
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnModuleInit,
  type OptionalFactoryDependency,
  type Provider,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { fastifyInstanceOf } from '../fastify-instance';
import { isManagementRequest } from '../management-listener';
import type { HealthCheck } from './health-check';
import { HEALTH_CHECKS, HEALTH_OPTIONS, HealthService, type HealthOptions } from './health.service';

export interface HealthModuleOptions extends HealthOptions {
  checks?: HealthCheck[];
}

export interface HealthModuleAsyncOptions extends HealthOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the checks from injected clients, e.g. `(ds: DataSource) => [postgresCheck(ds)]`. */
  useFactory: (...args: never[]) => HealthCheck[] | Promise<HealthCheck[]>;
}

const LIVE_BODY = '{"status":"ok"}';

@Injectable()
class HealthRoutesInstaller implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly health: HealthService,
  ) {}

  onModuleInit(): void {
    const fastify = fastifyInstanceOf(this.adapterHost, 'HealthModule');
    // Plain Fastify routes: outside the global prefix, guards, pipes and interceptors, so probes
    // never need credentials and a misconfigured guard cannot take a pod out of rotation.
    fastify.get('/health/live', (_request, reply) => {
      reply.type('application/json').send(LIVE_BODY);
    });
    // The checks' names, latencies and errors describe the infrastructure: the management listener's only.
    fastify.get('/health/ready', async (request, reply) => {
      const report = await this.health.readiness();
      reply.code(report.status === 'ok' ? 200 : 503);
      return isManagementRequest(request) ? report : { status: report.status };
    });
  }
}

/**
 * `GET /health/live` (200 while the process serves) and `GET /health/ready` (200 when every check
 * passes within its timeout; 503 otherwise, and once shutting down). On the public port readiness answers
 * its status only; on the management listener (`ManagementListener`) the checks too, with the failing ones.
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    const { checks = [], ...healthOptions } = options;
    return HealthModule.build([{ provide: HEALTH_CHECKS, useValue: checks }], healthOptions, []);
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    const { imports = [], inject = [], useFactory, ...healthOptions } = options;
    return HealthModule.build(
      [{ provide: HEALTH_CHECKS, inject, useFactory }],
      healthOptions,
      imports,
    );
  }

  private static build(
    checksProvider: Provider[],
    options: HealthOptions,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: HealthModule,
      imports,
      providers: [
        ...checksProvider,
        { provide: HEALTH_OPTIONS, useValue: options },
        HealthService,
        HealthRoutesInstaller,
      ],
      exports: [HealthService],
    };
  }
}
