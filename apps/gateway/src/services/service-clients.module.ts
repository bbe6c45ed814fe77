import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClient, ServiceTokens } from '@lib/internal-http';
import { GatewayEnv } from '../config/gateway.env';

/** Injection tokens of the internal HTTP clients, one per service the gateway routes to. */
export const ObjectMetadataClient = Symbol('ObjectMetadataClient');
export const FlowOrchestratorClient = Symbol('FlowOrchestratorClient');
export const UsageAggregatorClient = Symbol('UsageAggregatorClient');

const services = [
  { token: ObjectMetadataClient, name: 'object-metadata', env: 'OBJECT_METADATA_URL' },
  { token: FlowOrchestratorClient, name: 'flow-orchestrator', env: 'FLOW_ORCHESTRATOR_URL' },
  { token: UsageAggregatorClient, name: 'usage-aggregator', env: 'USAGE_AGGREGATOR_URL' },
] as const;

class ServiceClientsShutdown implements OnApplicationShutdown {
  constructor(private readonly clients: ServiceClient[]) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

/** Keep-alive pools to every service (see `ServiceClient` for why HTTP and why pools), signing as the gateway. */
@Global()
@Module({
  providers: [
    ...services.map((s) => ({
      provide: s.token,
      inject: [ConfigService, ServiceTokens],
      useFactory: (config: ConfigService<GatewayEnv, true>, tokens: ServiceTokens) =>
        new ServiceClient({ name: s.name, baseUrl: config.get(s.env), tokens }),
    })),
    {
      provide: ServiceClientsShutdown,
      inject: services.map((s) => s.token),
      useFactory: (...clients: ServiceClient[]) => new ServiceClientsShutdown(clients),
    },
  ],
  exports: services.map((s) => s.token),
})
export class ServiceClientsModule {}
