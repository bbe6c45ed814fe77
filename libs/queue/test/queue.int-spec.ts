import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { JobName, QueueName } from '@lib/contracts';
import {
  DEFAULT_JOB_OPTIONS,
  jobIdFor,
  JobProducer,
  queueConnection,
  Reconciler,
} from '@lib/queue';
import { TEST_REDIS_URL, testRedisPrefix, waitFor } from '@lib/testing';

const silent = { log: () => undefined, error: () => undefined };

describe(JobProducer.name, () => {
  const redis = testRedisPrefix('q');
  const connection = queueConnection(TEST_REDIS_URL);
  let queue: Queue;
  let events: QueueEvents;
  let sut: JobProducer;

  beforeAll(async () => {
    queue = new Queue(QueueName.TtlExpiry, {
      connection,
      prefix: redis.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    events = new QueueEvents(QueueName.TtlExpiry, { connection, prefix: redis.prefix });
    await events.waitUntilReady();
    sut = new JobProducer(new Map([[QueueName.TtlExpiry, queue]]));
  });

  afterEach(async () => {
    await queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await events.close();
    await queue.close();
    await redis.cleanup();
  });

  it('should build job ids without the `:` BullMQ reserves', () => {
    expect(jobIdFor(JobName.ObjectExpire, 'a:b')).toBe('object.expire.a_b');
  });

  it('should add a job once when it is enqueued twice with the same id', async () => {
    const jobId = jobIdFor(JobName.ObjectExpire, 'obj_1');
    await sut.enqueue(
      JobName.ObjectExpire,
      { objectId: 'obj_1' },
      { jobId, runAt: Date.now() + 60_000 },
    );
    await sut.enqueue(
      JobName.ObjectExpire,
      { objectId: 'obj_1' },
      { jobId, runAt: Date.now() + 60_000 },
    );
    await sut.enqueueBulk(JobName.ObjectExpire, [{ data: { objectId: 'obj_1' }, opts: { jobId } }]);
    expect(await queue.getJobCounts('delayed', 'waiting')).toMatchObject({
      delayed: 1,
      waiting: 0,
    });
  });

  it('should move the job to the new time when it is rescheduled', async () => {
    const jobId = jobIdFor(JobName.ObjectExpire, 'obj_2');
    await sut.enqueue(
      JobName.ObjectExpire,
      { objectId: 'obj_2' },
      { jobId, runAt: Date.now() + 60_000 },
    );
    const runAt = Date.now() + 120_000;
    await sut.reschedule(JobName.ObjectExpire, { objectId: 'obj_2' }, jobId, runAt);
    const job = (await queue.getJob(jobId))!;
    expect(job.timestamp + job.delay).toBeGreaterThanOrEqual(runAt - 1_000);
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('should apply the default attempts and backoff and let a completed id be enqueued again', async () => {
    const seen: Job[] = [];
    let failures = 0;
    const worker = new Worker(
      QueueName.TtlExpiry,
      (job) => {
        if (failures++ === 0) throw new Error('transient');
        seen.push(job);
        return Promise.resolve();
      },
      { connection, prefix: redis.prefix },
    );
    try {
      const jobId = jobIdFor(JobName.ObjectExpire, 'obj_3');
      const job = await sut.enqueue(JobName.ObjectExpire, { objectId: 'obj_3' }, { jobId });
      expect(job.opts.attempts).toBe(5);
      expect(job.opts.backoff).toEqual({ type: 'exponential', delay: 1_000 });
      await waitFor('the retried job to complete', () => seen.length === 1);
      expect(failures).toBe(2); // one failed attempt, retried after the backoff, then success
      // removeOnComplete frees the id, so the same object can be scheduled again later: once BullMQ has
      // moved the job to completed and removed it (the processor returning is not that yet; an add with
      // the id before it is a no-op).
      await waitFor('the completed job to be removed', async () => !(await queue.getJob(jobId)));
      await sut.enqueue(JobName.ObjectExpire, { objectId: 'obj_3' }, { jobId });
      await waitFor('the job to run again', () => seen.length === 2);
    } finally {
      await worker.close();
    }
  });

  it('should re-enqueue what Redis lost when the reconciler sweeps the source of truth', async () => {
    // The source of truth (Postgres in the services) holds the deadlines; here a plain list stands in.
    const deadlines = ['obj_a', 'obj_b', 'obj_c'].map((objectId) => ({
      objectId,
      runAt: Date.now() + 60_000,
    }));
    const reconciler = new Reconciler({
      name: 'test',
      intervalMs: 100,
      logger: silent,
      sweep: async () => {
        await sut.enqueueBulk(
          JobName.ObjectExpire,
          deadlines.map((d) => ({
            data: { objectId: d.objectId },
            opts: { jobId: jobIdFor(JobName.ObjectExpire, d.objectId), runAt: d.runAt },
          })),
        );
        return deadlines.length;
      },
    });
    await reconciler.runOnce();
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 3 });

    await queue.obliterate({ force: true }); // Redis loses everything
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 0 });
    reconciler.start();
    try {
      await waitFor('the reconciler to restore the jobs', async () => {
        return (await queue.getJobCounts('delayed')).delayed === 3;
      });
      // Sweeping again adds no duplicates.
      await reconciler.runOnce();
      expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 3 });
    } finally {
      await reconciler.stop();
    }
  });

  it('should keep sweeping after a sweep fails', async () => {
    let calls = 0;
    const reconciler = new Reconciler({
      name: 'flaky',
      intervalMs: 20,
      logger: silent,
      sweep: () => (++calls === 1 ? Promise.reject(new Error('db down')) : Promise.resolve(0)),
    });
    reconciler.start();
    await waitFor('a second sweep', () => calls >= 2);
    await reconciler.stop();
  });
});
