import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectsService } from '../objects/objects.service';
import { TtlSweeper } from './ttl-sweeper.service';

describe(TtlSweeper.name, () => {
  const config = { ttl: { sweepIntervalMs: 100 } } as ObjectMetadataConfig;

  it('should expire batch after batch while they come back full, then stop for this sweep', async () => {
    const expireDue = jest.fn<Promise<number>, [number]>();
    expireDue.mockResolvedValueOnce(1_000).mockResolvedValueOnce(1_000).mockResolvedValueOnce(7);
    // Strict: only the method the sweeper may call exists.
    const sut = new TtlSweeper({ expireDue } as unknown as ObjectsService, config);
    expect(await sut.sweep()).toBe(2_007);
    expect(expireDue.mock.calls).toEqual([[1_000], [1_000], [1_000]]);
  });

  it('should end a sweep after the batch in flight once shutdown begins', async () => {
    const objects = { expireDue: jest.fn<Promise<number>, [number]>() };
    const sut = new TtlSweeper(objects as unknown as ObjectsService, config);
    objects.expireDue.mockImplementation(async () => {
      await sut.beforeApplicationShutdown();
      return 1_000;
    });
    expect(await sut.sweep()).toBe(1_000);
    expect(objects.expireDue).toHaveBeenCalledTimes(1);
  });
});
