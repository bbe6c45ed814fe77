import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { performance } from 'node:perf_hooks';
import type { CheckResult, HealthCheck, ReadinessReport } from './health-check';

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface HealthOptions {
  /** Per-check deadline; all checks run in parallel. Default 2000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2000;
const MAX_ERROR_LENGTH = 300;

const running = new Set<HealthService>();

/**
 * Readiness answers 503 from now on, in every app of this process (call it on SIGTERM, before
 * closing the server, so Kubernetes stops routing new requests first). `app.close()` does it too.
 */
export function markShuttingDown(): void {
  for (const service of running) service.markShuttingDown();
}

/** Runs the readiness checks; served by `HealthModule` at `GET /health/ready`. */
@Injectable()
export class HealthService
  implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown
{
  private shuttingDown = false;
  private inFlight: Promise<ReadinessReport> | undefined;
  private readonly timeoutMs: number;

  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: readonly HealthCheck[],
    @Inject(HEALTH_OPTIONS) options: HealthOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const names = checks.map((c) => c.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) throw new Error(`Duplicate health check name: ${duplicate}`);
  }

  onModuleInit(): void {
    running.add(this);
  }

  beforeApplicationShutdown(): void {
    this.markShuttingDown();
  }

  onApplicationShutdown(): void {
    running.delete(this);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /**
   * Every check, in parallel, each bounded by the timeout. Concurrent callers share one run, so
   * frequent probes never pile up on a slow dependency.
   */
  readiness(): Promise<ReadinessReport> {
    if (this.shuttingDown) return Promise.resolve({ status: 'shutting_down', checks: {} });
    this.inFlight ??= this.runAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runAll(): Promise<ReadinessReport> {
    // Probe traffic (HTTP pings to other services, S3 HEADs) would start a root trace per probe.
    const results = await context.with(suppressTracing(context.active()), () =>
      Promise.all(this.checks.map((check) => this.runOne(check))),
    );
    const checks: Record<string, CheckResult> = {};
    const failed: string[] = [];
    this.checks.forEach((check, i) => {
      checks[check.name] = results[i];
      if (results[i].status === 'down') failed.push(check.name);
    });
    if (this.shuttingDown) return { status: 'shutting_down', checks };
    return failed.length === 0 ? { status: 'ok', checks } : { status: 'error', checks, failed };
  }

  private async runOne(check: HealthCheck): Promise<CheckResult> {
    const controller = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`timed out after ${this.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.timeoutMs);
    });
    try {
      await Promise.race([check.check(controller.signal), timeout]);
      return { status: 'up', latencyMs: elapsedMs(started) };
    } catch (error) {
      return { status: 'down', latencyMs: elapsedMs(started), error: describe(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
