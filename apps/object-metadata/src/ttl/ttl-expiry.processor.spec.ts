import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { JobName } from '@lib/contracts';
import { ObjectsService } from '../objects/objects.service';
import { TtlExpiryProcessor } from './ttl-expiry.processor';

const id = (n: number) => `obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e${n.toString(16).padStart(2, '0')}`;

function job(name: string, data: unknown) {
  const moveToDelayed = jest.fn<Promise<void>, [number, string | undefined]>(() =>
    Promise.resolve(),
  );
  return { job: { name, data, moveToDelayed } as unknown as Job, moveToDelayed };
}

describe(TtlExpiryProcessor.name, () => {
  let expireMany: jest.Mock;
  let purgeByIds: jest.Mock;
  let sut: TtlExpiryProcessor;

  beforeEach(() => {
    expireMany = jest.fn();
    purgeByIds = jest.fn();
    // Strict: only the two methods the processor may call exist.
    sut = new TtlExpiryProcessor({ expireMany, purgeByIds } as unknown as ObjectsService);
  });

  it('should expire the objects of jobs running together in one batch, each job with its outcome', async () => {
    expireMany.mockImplementation((ids: string[]) =>
      Promise.resolve(
        new Map(
          [
            [id(1), { status: 'done' }],
            [id(2), { status: 'later', retryAt: 1_764_000_000_000 }],
            [id(3), { status: 'failed', error: new Error('S3 is unavailable') }],
          ].filter(([k]) => ids.includes(k as string)) as [string, unknown][],
        ),
      ),
    );
    const [one, two, three] = [1, 2, 3].map((n) => job(JobName.ObjectExpire, { objectId: id(n) }));
    const results = await Promise.allSettled([
      sut.process(one.job, 't1'),
      sut.process(two.job, 't2'),
      sut.process(three.job, 't3'),
    ]);
    expect(expireMany).toHaveBeenCalledTimes(1);
    expect(expireMany).toHaveBeenCalledWith([id(1), id(2), id(3)]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: undefined });
    // Woke up early: back to sleep until the deadline, keeping the job.
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(DelayedError) });
    expect(two.moveToDelayed).toHaveBeenCalledWith(1_764_000_000_000, 't2');
    // The bytes could not be removed: the job fails and BullMQ retries it.
    expect(results[2]).toMatchObject({
      status: 'rejected',
      reason: new Error('S3 is unavailable'),
    });
    expect(one.moveToDelayed).not.toHaveBeenCalled();
  });

  it('should fail every job of a batch whose transaction failed', async () => {
    expireMany.mockRejectedValue(new Error('database is unavailable'));
    await expect(sut.process(job(JobName.ObjectExpire, { objectId: id(1) }).job)).rejects.toThrow(
      'database is unavailable',
    );
  });

  it('should remove the bytes when object.purge jobs run', async () => {
    purgeByIds.mockResolvedValue(undefined);
    await Promise.all([
      sut.process(job(JobName.ObjectPurge, { objectId: id(1) }).job),
      sut.process(job(JobName.ObjectPurge, { objectId: id(2) }).job),
    ]);
    expect(purgeByIds).toHaveBeenCalledWith([id(1), id(2)]);
    expect(expireMany).not.toHaveBeenCalled();
  });

  it.each([{}, { objectId: 42 }, { objectId: 'obj_1' }, null])(
    'should fail without retries when the payload is %p',
    async (data) => {
      await expect(sut.process(job(JobName.ObjectExpire, data).job)).rejects.toBeInstanceOf(
        UnrecoverableError,
      );
      expect(expireMany).not.toHaveBeenCalled();
    },
  );

  it('should fail without retries when the job name is unknown', async () => {
    await expect(
      sut.process(job('object.unknown', { objectId: id(1) }).job),
    ).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
