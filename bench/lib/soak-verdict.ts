/**
 * The soak's judgement (`bench/soak.ts`), pure so that it is unit-tested: is an app's memory flat after
 * warm-up? Samples are (elapsed ms, bytes). After warm-up, the least-squares line through the samples gives
 * a slope; the growth it predicts over the post-warm-up window must stay within the bound: at most
 * `maxGrowthFraction` of the value at warm-up end or `minBoundBytes`, whichever is larger (a fit, not the
 * last sample alone, so that one GC cycle's swing at either end does not decide).
 */
export interface MemorySample {
  atMs: number;
  bytes: number;
}

export interface FlatnessBound {
  maxGrowthFraction: number;
  minBoundBytes: number;
}

/** The soak's documented bound: growth after warm-up within 10 % or 16 MiB, whichever is larger. */
export const SOAK_BOUND: FlatnessBound = { maxGrowthFraction: 0.1, minBoundBytes: 16 * 2 ** 20 };

export interface MemoryVerdict {
  /** The first sample at or after warm-up end, and the last. */
  atWarmupEnd: number;
  atEnd: number;
  /** Least-squares slope after warm-up, bytes per minute. */
  slopePerMinute: number;
  /** slope × post-warm-up window: the growth the trend predicts. */
  trendGrowth: number;
  bound: number;
  flat: boolean;
}

/** Least-squares slope of bytes over ms (0 for fewer than two distinct instants). */
export function leastSquaresSlope(samples: readonly MemorySample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanX = samples.reduce((s, p) => s + p.atMs, 0) / n;
  const meanY = samples.reduce((s, p) => s + p.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.atMs - meanX) * (p.bytes - meanY);
    den += (p.atMs - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The verdict over the samples taken at or after `warmupEndMs`; throws when fewer than three remain (too
 * few to call a trend).
 */
export function memoryVerdict(
  samples: readonly MemorySample[],
  warmupEndMs: number,
  bound: FlatnessBound = SOAK_BOUND,
): MemoryVerdict {
  const after = samples.filter((s) => s.atMs >= warmupEndMs).sort((a, b) => a.atMs - b.atMs);
  if (after.length < 3) {
    throw new Error(
      `only ${after.length} memory samples after warm-up: sample more often or run longer`,
    );
  }
  const slope = leastSquaresSlope(after);
  const windowMs = after[after.length - 1].atMs - after[0].atMs;
  const atWarmupEnd = after[0].bytes;
  const limit = Math.max(bound.minBoundBytes, bound.maxGrowthFraction * atWarmupEnd);
  const trendGrowth = slope * windowMs;
  return {
    atWarmupEnd,
    atEnd: after[after.length - 1].bytes,
    slopePerMinute: slope * 60_000,
    trendGrowth,
    bound: limit,
    flat: trendGrowth <= limit,
  };
}
