import { MicroBatcher } from './micro-batcher';

describe(MicroBatcher.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const doubling = (lingerMs = 10) => {
    const batches: number[][] = [];
    const sut = new MicroBatcher<number, number>({
      maxSize: 3,
      lingerMs,
      run: (keys) => {
        batches.push(keys);
        return Promise.resolve(new Map(keys.map((k) => [k, k * 2])));
      },
    });
    return { sut, batches };
  };

  it('should run one batch for the keys submitted within the linger time', async () => {
    const { sut, batches } = doubling();
    const results = Promise.all([sut.submit(1), sut.submit(2)]);
    expect(batches).toEqual([]);
    jest.advanceTimersByTime(10);
    expect(await results).toEqual([2, 4]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('should run a batch at once when it reaches its largest size', async () => {
    const { sut, batches } = doubling();
    const results = Promise.all([1, 2, 3, 4].map((k) => sut.submit(k)));
    expect(batches).toEqual([[1, 2, 3]]);
    jest.advanceTimersByTime(10);
    expect(await results).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('should give one result to every caller of a key submitted twice', async () => {
    const { sut, batches } = doubling();
    const results = Promise.all([sut.submit(5), sut.submit(5)]);
    jest.advanceTimersByTime(10);
    expect(await results).toEqual([10, 10]);
    expect(batches).toEqual([[5]]);
  });

  it('should reject every caller of a batch that fails, and a key the batch did not answer', async () => {
    const sut = new MicroBatcher<string, string>({
      maxSize: 10,
      lingerMs: 1,
      run: (keys) =>
        keys.includes('boom')
          ? Promise.reject(new Error('S3 is down'))
          : Promise.resolve(new Map([['a', 'A']])),
    });
    const failed = Promise.allSettled([sut.submit('boom'), sut.submit('x')]);
    jest.advanceTimersByTime(1);
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const partial = Promise.allSettled([sut.submit('a'), sut.submit('b')]);
    jest.advanceTimersByTime(1);
    const [a, b] = await partial;
    expect(a).toEqual({ status: 'fulfilled', value: 'A' });
    expect(b).toMatchObject({
      status: 'rejected',
      reason: new Error('batch answered nothing for b'),
    });
  });
  it('should gather the keys submitted while a batch runs into the next batch, at most maxInFlight at once', async () => {
    const batches: number[][] = [];
    const release: (() => void)[] = [];
    const sut = new MicroBatcher<number, number>({
      maxSize: 2,
      lingerMs: 10,
      maxInFlight: 1,
      run: (keys) => {
        batches.push(keys);
        return new Promise((resolve) =>
          release.push(() => resolve(new Map(keys.map((k) => [k, -k])))),
        );
      },
    });
    const first = sut.submit(1);
    jest.advanceTimersByTime(10);
    expect(batches).toEqual([[1]]);
    const rest = Promise.all([2, 3, 4, 5, 6].map((k) => sut.submit(k)));
    jest.advanceTimersByTime(100);
    expect(batches).toEqual([[1]]); // the first batch still runs: the others wait, whatever the time
    release.shift()!();
    expect(await first).toBe(-1);
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2, 3]]); // at once, at most maxSize keys
    release.shift()!();
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
    release.shift()!();
    await jest.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2, 3], [4, 5], [6]]);
    release.shift()!();
    expect(await rest).toEqual([-2, -3, -4, -5, -6]);
  });
  it('should reject the callers of a batch whose run throws at once, and still run the next batch', async () => {
    let calls = 0;
    const sut = new MicroBatcher<number, number>({
      maxSize: 10,
      lingerMs: 1,
      maxInFlight: 1,
      run: (keys) => {
        if (calls++ === 0) throw new Error('not even started');
        return Promise.resolve(new Map(keys.map((k) => [k, k])));
      },
    });
    const first = sut.submit(1).catch((err: Error) => err.message);
    jest.advanceTimersByTime(1);
    expect(await first).toBe('not even started');
    const second = sut.submit(2);
    jest.advanceTimersByTime(1);
    expect(await second).toBe(2);
  });

  it('should gather the keys of one event loop turn when lingerMs is 0, with no timer', async () => {
    jest.useRealTimers();
    const { sut, batches } = doubling(0);
    const sameTurn = Promise.all([1, 2].map((k) => sut.submit(k)));
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2]]);
    expect(await sameTurn).toEqual([2, 4]);
    expect(await sut.submit(9)).toBe(18);
    expect(batches).toEqual([[1, 2], [9]]);
  });
});
