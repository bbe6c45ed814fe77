export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 200 ms. */
  initialMs?: number;
  /** Cap of the delay. Default 5 s. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential growth capped at `maxMs`, with "equal jitter"
 * (half fixed, half random) so replicas retrying the same outage spread out yet never retry at once.
 * Pure: `random` is injectable for tests.
 */
export function backoffDelayMs(
  attempt: number,
  { initialMs = 200, maxMs = 5_000, multiplier = 2 }: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const ceiling = Math.min(maxMs, initialMs * multiplier ** (n - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
