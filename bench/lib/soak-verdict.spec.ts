import { leastSquaresSlope, memoryVerdict, MemorySample, SOAK_BOUND } from './soak-verdict';

const MiB = 2 ** 20;
/** One sample every 15 s for 10 minutes, `bytes(atMs)` each. */
const series = (bytes: (atMs: number) => number): MemorySample[] =>
  Array.from({ length: 41 }, (_, i) => ({ atMs: i * 15_000, bytes: bytes(i * 15_000) }));

describe(leastSquaresSlope.name, () => {
  it('should give the slope of samples when they lie on a line', () => {
    expect(leastSquaresSlope(series((ms) => 100 * MiB + ms * 10))).toBeCloseTo(10, 9);
  });

  it('should give 0 when there are fewer than two instants', () => {
    expect(leastSquaresSlope([{ atMs: 5, bytes: 1 }])).toBe(0);
    expect(
      leastSquaresSlope([
        { atMs: 5, bytes: 1 },
        { atMs: 5, bytes: 9 },
      ]),
    ).toBe(0);
  });
});

describe(memoryVerdict.name, () => {
  const warmup = 120_000;

  it('should call memory flat when it only swings around a level after warm-up', () => {
    // Grows during warm-up, then swings ±20 MiB (GC cycles) around 200 MiB.
    const v = memoryVerdict(
      series((ms) =>
        ms < warmup ? 100 * MiB + ms * 800 : 200 * MiB + ((ms / 15_000) % 2 ? 20 : -20) * MiB,
      ),
      warmup,
    );

    expect(v.flat).toBe(true);
    expect(v.atWarmupEnd).toBe(180 * MiB);
    expect(v.bound).toBe(0.1 * 180 * MiB);
  });

  it('should not call memory flat when it keeps growing after warm-up', () => {
    // 5 MiB a minute: 40 MiB over the 8 minutes after warm-up, over the 20 MiB bound of 200 MiB.
    const v = memoryVerdict(
      series((ms) => 200 * MiB + (ms / 60_000) * 5 * MiB),
      warmup,
    );

    expect(v.flat).toBe(false);
    expect(v.slopePerMinute / MiB).toBeCloseTo(5, 6);
    expect(v.trendGrowth / MiB).toBeCloseTo(40, 6);
  });

  it('should use the absolute bound when the value is small', () => {
    // 40 MiB of heap growing 1.5 MiB a minute: 12 MiB in 8 minutes, within the 16 MiB floor.
    const v = memoryVerdict(
      series((ms) => 40 * MiB + (ms / 60_000) * 1.5 * MiB),
      warmup,
    );

    expect(v.bound).toBe(SOAK_BOUND.minBoundBytes);
    expect(v.flat).toBe(true);
  });

  it('should throw when fewer than three samples follow warm-up', () => {
    expect(() => memoryVerdict(series(() => MiB).slice(0, 10), warmup)).toThrow(
      'only 2 memory samples after warm-up',
    );
  });
});
