import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { JobMap, JobName, OBJECT_ID_PATTERN, QueueName } from '@lib/contracts';
import { MicroBatcher } from '@lib/queue';
import { ObjectsService } from '../objects/objects.service';

type TtlJobName = typeof JobName.ObjectExpire | typeof JobName.ObjectPurge;

// Purges of many deleted objects run at once, their S3 work batched (one DeleteObjects per batch); each job
// still awaits its own object's outcome and fails alone.
const CONCURRENCY = 1024;
const BATCH = { maxSize: 256, lingerMs: 20 };

/**
 * The `ttl-expiry` queue: `object.purge` (bytes of a deleted object). Only maps, batches and delegates;
 * ObjectsService re-checks Postgres, so a duplicate or stale job is harmless, and a job whose bytes S3 would
 * not remove throws, so that BullMQ retries it with backoff. TTL deadlines are the TTL sweeper's (Postgres):
 * an `object.expire` job an earlier release left in the queue completes without doing anything.
 */
@Processor(QueueName.TtlExpiry, { concurrency: CONCURRENCY })
export class TtlExpiryProcessor extends WorkerHost {
  private readonly purges: MicroBatcher<string, true>;

  constructor(objects: ObjectsService) {
    super();
    this.purges = new MicroBatcher({
      ...BATCH,
      run: async (ids) => {
        await objects.purgeByIds(ids);
        return new Map(ids.map((id) => [id, true as const]));
      },
    });
  }

  async process(job: Job<JobMap[TtlJobName]>): Promise<void> {
    const objectId = job.data?.objectId;
    if (typeof objectId !== 'string' || !OBJECT_ID_PATTERN.test(objectId)) {
      throw new UnrecoverableError(`${job.name}: invalid objectId ${JSON.stringify(objectId)}`);
    }
    const name = job.name as TtlJobName;
    switch (name) {
      case JobName.ObjectExpire:
        return;
      case JobName.ObjectPurge:
        await this.purges.submit(objectId);
        return;
      default:
        throw new UnrecoverableError(`unknown job ${String(name)} on ${QueueName.TtlExpiry}`);
    }
  }
}
