/**
 * One dependency probed by `GET /health/ready`. `check` resolves when the dependency answers and
 * rejects (or times out) otherwise; it may stop early when `signal` aborts (timeout).
 */
export interface HealthCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  /** `ok` → 200; `error` (a check failed) and `shutting_down` → 503. */
  status: 'ok' | 'error' | 'shutting_down';
  checks: Record<string, CheckResult>;
  /** Names of the failed checks (only when `status` is `error`). */
  failed?: string[];
}
