import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlowOrchestratorClient, ObjectMetadataClient, UsageAggregatorClient } from '@lib/clients';
import { ServiceTokens } from '@lib/internal-http';
import { GatewayConfig } from '../config/gateway.config';

const services = [
  { client: ObjectMetadataClient, url: 'objectMetadataUrl' },
  { client: FlowOrchestratorClient, url: 'flowOrchestratorUrl' },
  { client: UsageAggregatorClient, url: 'usageAggregatorUrl' },
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
      inject: [GatewayConfig, ServiceTokens],
      useFactory: ({ services: urls }: GatewayConfig, tokens: ServiceTokens) =>
        s.client.connect({ baseUrl: urls[s.url], tokens }),
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
