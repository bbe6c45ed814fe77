import type { ServicePrincipal, UsageQuery, UsageView } from '@lib/contracts';
import { ServiceClient, type ServiceClientOptions } from '@lib/internal-http';

/**
 * usage-aggregator, as the gateway calls it: the org's storage usage, taking and answering the classes of
 * `@lib/contracts` (usage-aggregator's controller validates the same class).
 */
export class UsageAggregatorClient {
  constructor(private readonly http: ServiceClient) {}

  /** A client over a keep-alive pool to usage-aggregator at `baseUrl`. */
  static connect(opts: Omit<ServiceClientOptions, 'name'>): UsageAggregatorClient {
    return new UsageAggregatorClient(new ServiceClient({ ...opts, name: 'usage-aggregator' }));
  }

  /** The storage usage of the principal's org, or of one user in it (`createdBy`). */
  usage(principal: ServicePrincipal, query: UsageQuery): Promise<UsageView> {
    return this.http.call<UsageView>('GET', '/internal/usage', {
      principal,
      query: { createdBy: query.createdBy },
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
