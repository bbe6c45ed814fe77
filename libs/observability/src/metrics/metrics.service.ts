import { Inject, Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

export const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');

export interface MetricsModuleOptions {
  /** Added as the `service` label of every series. */
  service: string;
  /** Process metrics (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, …); default on. */
  defaultMetrics?: boolean;
  /** Buckets (seconds) of `http_server_request_duration_seconds`. */
  httpBuckets?: number[];
}

export type HttpLabel = 'method' | 'route' | 'status_code';

/** Fine at the low end: the gateway answers most requests in a few milliseconds. */
export const DEFAULT_HTTP_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

type Config<C> = Omit<C, 'registers'>;

/**
 * The app's Prometheus registry (served at `GET /metrics`) and a get-or-create API for custom
 * metrics on it, e.g. `metrics.gauge({ name: 'outbox_lag_seconds', help, collect() {...} })`.
 * Asking twice for the same name returns the same metric, so providers may declare theirs freely.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<HttpLabel>;

  constructor(@Inject(METRICS_OPTIONS) options: MetricsModuleOptions) {
    this.registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.httpRequestDuration = this.histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests served, by route pattern (unmatched: no route).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: options.httpBuckets ?? DEFAULT_HTTP_BUCKETS,
    });
  }

  counter<T extends string>(config: Config<CounterConfiguration<T>>): Counter<T> {
    return this.getOrCreate(
      config.name,
      Counter,
      () => new Counter({ ...config, registers: [this.registry] }),
    );
  }

  gauge<T extends string>(config: Config<GaugeConfiguration<T>>): Gauge<T> {
    return this.getOrCreate(
      config.name,
      Gauge,
      () => new Gauge({ ...config, registers: [this.registry] }),
    );
  }

  histogram<T extends string>(config: Config<HistogramConfiguration<T>>): Histogram<T> {
    return this.getOrCreate(
      config.name,
      Histogram,
      () => new Histogram({ ...config, registers: [this.registry] }),
    );
  }

  private getOrCreate<M>(
    name: string,
    type: abstract new (...args: never[]) => M,
    create: () => M,
  ): M {
    const existing: unknown = this.registry.getSingleMetric(name);
    if (existing === undefined) return create();
    if (existing instanceof type) return existing;
    throw new Error(`Metric ${name} is already registered with another type`);
  }
}
