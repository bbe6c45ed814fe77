import { PartBuffers } from './part-buffers';

describe('PartBuffers', () => {
  it('should hand out buffers up to its capacity, then queue takers first come, first served', async () => {
    const buffers = new PartBuffers(2);
    const first = await buffers.take();
    const second = await buffers.take();
    const order: string[] = [];
    const third = buffers.take().then((giveBack) => (order.push('third'), giveBack));
    const fourth = buffers.take().then((giveBack) => (order.push('fourth'), giveBack));
    await Promise.resolve();
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 2,
      queued: 2,
      order: [],
    });

    second();
    const thirdBack = await third;
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 2,
      queued: 1,
      order: ['third'],
    });
    first();
    (await fourth)();
    thirdBack();
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 0,
      queued: 0,
      order: ['third', 'fourth'],
    });
  });

  it('should count a buffer given back twice once', async () => {
    const buffers = new PartBuffers(1);
    const giveBack = await buffers.take();
    giveBack();
    giveBack();
    expect(buffers.inUse).toBe(0);
    await buffers.take();
    expect(buffers.inUse).toBe(1);
  });

  it('should refuse a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new PartBuffers(capacity)).toThrow(RangeError);
    }
  });

  it('should give a buffer at once only while one is free and no taker waits', async () => {
    const buffers = new PartBuffers(2);
    const first = buffers.tryTake();
    expect(first).toBeDefined();
    const second = await buffers.take();
    expect(buffers.tryTake()).toBeUndefined();
    const queued = buffers.take();
    first!();
    // Freed, but handed to the waiting taker: none for tryTake.
    expect(buffers.tryTake()).toBeUndefined();
    (await queued)();
    second();
    expect(buffers.inUse).toBe(0);
    expect(buffers.tryTake()).toBeDefined();
  });
});
