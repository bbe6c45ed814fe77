import { WriteBuffers } from './write-buffers';

describe('WriteBuffers', () => {
  it('should hand out bytes up to its capacity, then queue takers first come, first served', async () => {
    const buffers = new WriteBuffers(10);
    const first = await buffers.take(4);
    const second = await buffers.take(6);
    const order: string[] = [];
    const third = buffers.take(5).then((giveBack) => (order.push('third'), giveBack));
    const fourth = buffers.take(1).then((giveBack) => (order.push('fourth'), giveBack));
    await Promise.resolve();
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 10,
      queued: 2,
      order: [],
    });

    // 4 free: not enough for the third, and the fourth (which would fit) does not pass it.
    first();
    await Promise.resolve();
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 6,
      queued: 2,
      order: [],
    });
    second();
    const thirdBack = await third;
    const fourthBack = await fourth;
    expect({ inUse: buffers.inUse, queued: buffers.queued, order }).toEqual({
      inUse: 6,
      queued: 0,
      order: ['third', 'fourth'],
    });
    thirdBack();
    fourthBack();
    expect(buffers.inUse).toBe(0);
  });

  it('should count bytes given back twice once', async () => {
    const buffers = new WriteBuffers(5);
    const giveBack = await buffers.take(5);
    giveBack();
    giveBack();
    expect(buffers.inUse).toBe(0);
    await buffers.take(5);
    expect(buffers.inUse).toBe(5);
  });

  it('should refuse a capacity or a reservation that is not a positive integer within it', async () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new WriteBuffers(capacity)).toThrow(RangeError);
    }
    const buffers = new WriteBuffers(5);
    for (const bytes of [0, -1, 1.5, 6]) {
      expect(() => buffers.tryTake(bytes)).toThrow(RangeError);
      await expect(buffers.take(bytes)).rejects.toThrow(RangeError);
    }
  });

  it('should give bytes at once only while they are free and no taker waits', async () => {
    const buffers = new WriteBuffers(10);
    const first = buffers.tryTake(5);
    expect(first).toBeDefined();
    const second = await buffers.take(5);
    expect(buffers.tryTake(1)).toBeUndefined();
    const queued = buffers.take(5);
    first!();
    // Freed, but handed to the waiting taker: none for tryTake.
    expect(buffers.tryTake(1)).toBeUndefined();
    (await queued)();
    second();
    expect(buffers.inUse).toBe(0);
    expect(buffers.tryTake(10)).toBeDefined();
  });
});
