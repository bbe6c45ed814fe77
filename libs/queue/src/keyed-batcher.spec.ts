import { KeyedBatcher } from './keyed-batcher';

interface Item {
  key: string;
  name: string;
}

describe(KeyedBatcher.name, () => {
  /** A batcher whose batches wait until `release()`; `batches` records each batch's names. */
  const gated = (maxSize = 10) => {
    const batches: string[][] = [];
    const gates: (() => void)[] = [];
    const sut = new KeyedBatcher<Item, string>({
      maxSize,
      keyOf: (i) => i.key,
      conflictKeyOf: (i) => i.name,
      run: async (items) => {
        batches.push(items.map((i) => i.name));
        await new Promise<void>((r) => gates.push(r));
        if (items.some((i) => i.name === 'boom')) throw new Error('batch failed');
        return new Map(items.map((i) => [i, `${i.key}/${i.name}`]));
      },
    });
    const release = async () => {
      await new Promise((r) => setImmediate(r));
      gates.splice(0).forEach((open) => open());
      await new Promise((r) => setImmediate(r));
    };
    return { sut, batches, release };
  };

  it('should run the items of one key submitted in one turn as one batch, and those that arrive meanwhile as the next', async () => {
    const { sut, batches, release } = gated();
    const first = [sut.submit({ key: 'a', name: '1' }), sut.submit({ key: 'a', name: '2' })];
    await new Promise((r) => setImmediate(r));
    const later = [sut.submit({ key: 'a', name: '3' }), sut.submit({ key: 'a', name: '4' })];
    await release();
    expect(await Promise.all(first)).toEqual(['a/1', 'a/2']);
    await release();
    expect(await Promise.all(later)).toEqual(['a/3', 'a/4']);
    expect(batches).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('should run the batches of different keys at the same time', async () => {
    const { sut, batches, release } = gated();
    const results = [sut.submit({ key: 'a', name: '1' }), sut.submit({ key: 'b', name: '1' })];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['1'], ['1']]);
    await release();
    expect(await Promise.all(results)).toEqual(['a/1', 'b/1']);
  });

  it('should put conflicting items in later batches, in arrival order, and respect the largest size', async () => {
    const { sut, batches, release } = gated(2);
    const results = ['x', 'x', 'y', 'z', 'x'].map((name) => sut.submit({ key: 'a', name }));
    for (let i = 0; i < 4; i++) await release();
    expect(await Promise.all(results)).toEqual(['a/x', 'a/x', 'a/y', 'a/z', 'a/x']);
    expect(batches).toEqual([['x', 'y'], ['x', 'z'], ['x']]);
  });

  it('should fail every item of a failed batch, and still run the next batch of the key', async () => {
    const { sut, release } = gated();
    const failed = [sut.submit({ key: 'a', name: 'boom' }), sut.submit({ key: 'a', name: '1' })];
    await new Promise((r) => setImmediate(r));
    const next = sut.submit({ key: 'a', name: '2' });
    const settled = Promise.allSettled(failed);
    await release();
    expect(
      (await settled).map((r) => r.status === 'rejected' && (r.reason as Error).message),
    ).toEqual(['batch failed', 'batch failed']);
    await release();
    expect(await next).toBe('a/2');
  });
});
