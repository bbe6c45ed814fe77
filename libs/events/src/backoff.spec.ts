import { backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  const low = () => 0;
  const high = () => 1;

  it('should double from the initial delay when attempts grow', () => {
    const ceilings = [1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, {}, high));
    expect(ceilings).toEqual([200, 400, 800, 1600, 3200]);
  });

  it('should be capped at maxMs when attempts are many', () => {
    expect(backoffDelayMs(6, {}, high)).toBe(5_000);
    expect(backoffDelayMs(1_000, {}, high)).toBe(5_000);
    expect(backoffDelayMs(1_000, { maxMs: 2_000 }, high)).toBe(2_000);
  });

  it('should jitter within the upper half of the ceiling when random varies', () => {
    expect(backoffDelayMs(3, {}, low)).toBe(400);
    expect(backoffDelayMs(3, {}, () => 0.5)).toBe(600);
    expect(backoffDelayMs(3, {}, high)).toBe(800);
  });

  it('should treat attempts below one as the first when called with nonsense', () => {
    expect(backoffDelayMs(0, {}, high)).toBe(200);
    expect(backoffDelayMs(-3, {}, high)).toBe(200);
  });

  it('should use the given initial delay and multiplier when configured', () => {
    expect(backoffDelayMs(3, { initialMs: 100, multiplier: 3 }, high)).toBe(900);
  });
});
