import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { FlowOrchestratorClient, ObjectMetadataClient, UsageAggregatorClient } from '@lib/clients';
import { ServiceTokens } from '@lib/internal-http';
import { GatewayEnv } from '../config/gateway.env';

const services = [
  { client: ObjectMetadataClient, env: 'OBJECT_METADATA_URL' },
  { client: FlowOrchestratorClient, env: 'FLOW_ORCHESTRATOR_URL' },
  { client: UsageAggregatorClient, env: 'USAGE_AGGREGATOR_URL' },
] as const;

interface Closable {
  close(): Promise<void>;
}

class ServiceClientsShutdown implements OnApplicationShutdown {
  constructor(private readonly clients: Closable[]) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

/**
 * The clients of every service the gateway routes to (@lib/clients: keep-alive pools, see `ServiceClient`
 * for why HTTP and why pools), signing as the gateway; inject them by their class.
 */
@Global()
@Module({
  providers: [
    ...services.map((s) => ({
      provide: s.client,
      inject: [ConfigService, ServiceTokens],
      useFactory: (config: ConfigService<GatewayEnv, true>, tokens: ServiceTokens) =>
        s.client.connect({ baseUrl: config.get(s.env), tokens }),
    })),
    {
      provide: ServiceClientsShutdown,
      inject: services.map((s) => s.client),
      useFactory: (...clients: Closable[]) => new ServiceClientsShutdown(clients),
    },
  ],
  exports: services.map((s) => s.client),
})
export class ServiceClientsModule {}
