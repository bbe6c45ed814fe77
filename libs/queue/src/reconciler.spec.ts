import { Reconciler, type ReconcilerOptions } from './reconciler';

describe(Reconciler.name, () => {
  let logged: string[];
  let starts: number[];

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    logged = [];
    starts = [];
  });

  afterEach(() => jest.useRealTimers());

  /** A reconciler whose sweeps take `sweepMs` (fake time) and find `found` items each. */
  const reconciler = (sweepMs: number, found: number, opts: Partial<ReconcilerOptions> = {}) =>
    new Reconciler({
      name: 'test',
      intervalMs: 100,
      logger: { log: (m) => logged.push(m), error: (m) => logged.push(String(m)) },
      sweep: async () => {
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, sweepMs));
        return found;
      },
      ...opts,
    });

  it('should start the next sweep an interval after the last one ended, and log what it re-enqueued', async () => {
    const sut = reconciler(30, 2);
    sut.start();
    await jest.advanceTimersByTimeAsync(300);
    await sut.stop();
    expect(starts).toEqual([0, 130, 260]);
    expect(logged[0]).toBe('test: re-enqueued 2 item(s)');
  });

  it('should start sweeps every interval with fixedRate, and log nothing when quiet', async () => {
    const sut = reconciler(30, 2, { fixedRate: true, quiet: true });
    sut.start();
    await jest.advanceTimersByTimeAsync(250);
    await sut.stop();
    expect(starts).toEqual([0, 100, 200]);
    expect(logged).toEqual([]);
  });

  it('should start the next sweep at once after one longer than the interval, with fixedRate', async () => {
    const sut = reconciler(150, 2, { fixedRate: true });
    sut.start();
    await jest.advanceTimersByTimeAsync(400);
    const stopped = sut.stop(); // waits for the sweep in flight
    await jest.advanceTimersByTimeAsync(150);
    await stopped;
    expect(starts).toHaveLength(3);
    // A zero delay is a timer of 1 ms.
    for (let i = 1; i < starts.length; i++)
      expect(starts[i] - starts[i - 1]).toBeLessThanOrEqual(151);
  });
});
