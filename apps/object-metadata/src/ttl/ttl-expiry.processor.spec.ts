import { Job, UnrecoverableError } from 'bullmq';
import { JobName } from '@lib/contracts';
import { ObjectsService } from '../objects/objects.service';
import { TtlExpiryProcessor } from './ttl-expiry.processor';

const id = (n: number) => `obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e${n.toString(16).padStart(2, '0')}`;

const job = (name: string, data: unknown) => ({ name, data }) as unknown as Job;

describe(TtlExpiryProcessor.name, () => {
  let purgeByIds: jest.Mock;
  let sut: TtlExpiryProcessor;

  beforeEach(() => {
    purgeByIds = jest.fn();
    // Strict: only the method the processor may call exists.
    sut = new TtlExpiryProcessor({ purgeByIds } as unknown as ObjectsService);
  });

  it('should remove the bytes of object.purge jobs running together in one batch', async () => {
    purgeByIds.mockResolvedValue(undefined);
    await Promise.all([
      sut.process(job(JobName.ObjectPurge, { objectId: id(1) })),
      sut.process(job(JobName.ObjectPurge, { objectId: id(2) })),
    ]);
    expect(purgeByIds).toHaveBeenCalledTimes(1);
    expect(purgeByIds).toHaveBeenCalledWith([id(1), id(2)]);
  });

  it('should fail every purge job of a batch S3 would not remove, so that BullMQ retries them', async () => {
    purgeByIds.mockRejectedValue(new Error('S3 is unavailable'));
    const results = await Promise.allSettled([
      sut.process(job(JobName.ObjectPurge, { objectId: id(1) })),
      sut.process(job(JobName.ObjectPurge, { objectId: id(2) })),
    ]);
    expect(results).toEqual([
      { status: 'rejected', reason: new Error('S3 is unavailable') },
      { status: 'rejected', reason: new Error('S3 is unavailable') },
    ]);
  });

  it('should complete an object.expire job of an earlier release without touching anything', async () => {
    await expect(
      sut.process(job(JobName.ObjectExpire, { objectId: id(1) })),
    ).resolves.toBeUndefined();
    expect(purgeByIds).not.toHaveBeenCalled();
  });

  it.each([{}, { objectId: 42 }, { objectId: 'obj_1' }, null])(
    'should fail without retries when the payload is %p',
    async (data) => {
      await expect(sut.process(job(JobName.ObjectPurge, data))).rejects.toBeInstanceOf(
        UnrecoverableError,
      );
      expect(purgeByIds).not.toHaveBeenCalled();
    },
  );

  it('should fail without retries when the job name is unknown', async () => {
    await expect(sut.process(job('object.unknown', { objectId: id(1) }))).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
  });
});
