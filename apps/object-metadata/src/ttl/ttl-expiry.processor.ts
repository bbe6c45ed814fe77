import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { JobMap, JobName, OBJECT_ID_PATTERN, QueueName } from '@lib/contracts';
import { MicroBatcher } from '@lib/queue';
import { ExpiryOutcome, ObjectsService } from '../objects/objects.service';

type TtlJobName = typeof JobName.ObjectExpire | typeof JobName.ObjectPurge;

// Jobs due at the same moment are independent rows: many run at once, and their database and S3 work is
// batched (one transaction and one DeleteObjects per batch), which is what makes a burst of deadlines
// cheap. Each job still awaits its own object's outcome and fails alone.
const CONCURRENCY = 1024;
const BATCH = { maxSize: 256, lingerMs: 20 };

/**
 * The `ttl-expiry` queue: `object.expire` (a TTL deadline) and `object.purge` (bytes of a deleted object).
 * Only maps, batches and delegates; ObjectsService re-checks Postgres, so a duplicate or stale job is
 * harmless, and a job whose bytes S3 would not remove throws, so that BullMQ retries it with backoff.
 */
@Processor(QueueName.TtlExpiry, { concurrency: CONCURRENCY })
export class TtlExpiryProcessor extends WorkerHost {
  private readonly expiries: MicroBatcher<string, ExpiryOutcome>;
  private readonly purges: MicroBatcher<string, true>;

  constructor(objects: ObjectsService) {
    super();
    this.expiries = new MicroBatcher({ ...BATCH, run: (ids) => objects.expireMany(ids) });
    this.purges = new MicroBatcher({
      ...BATCH,
      run: async (ids) => {
        await objects.purgeByIds(ids);
        return new Map(ids.map((id) => [id, true as const]));
      },
    });
  }

  async process(job: Job<JobMap[TtlJobName]>, token?: string): Promise<void> {
    const objectId = job.data?.objectId;
    if (typeof objectId !== 'string' || !OBJECT_ID_PATTERN.test(objectId)) {
      throw new UnrecoverableError(`${job.name}: invalid objectId ${JSON.stringify(objectId)}`);
    }
    const name = job.name as TtlJobName;
    switch (name) {
      case JobName.ObjectExpire: {
        const outcome = await this.expiries.submit(objectId);
        switch (outcome.status) {
          case 'done':
            return;
          case 'later':
            // Woke up before the deadline: sleep again until it, keeping the job (and its id).
            await job.moveToDelayed(outcome.retryAt, token);
            throw new DelayedError();
          case 'failed':
            throw outcome.error;
        }
        return;
      }
      case JobName.ObjectPurge:
        await this.purges.submit(objectId);
        return;
      default:
        throw new UnrecoverableError(`unknown job ${String(name)} on ${QueueName.TtlExpiry}`);
    }
  }
}
