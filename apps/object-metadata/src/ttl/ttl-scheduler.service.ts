import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '@lib/contracts';
import { jobIdFor, JobProducer } from '@lib/queue';

/**
 * The ttl-expiry queue's jobs (purges of deleted objects' bytes), named after their object so that re-adding
 * one is a no-op.
 */
@Injectable()
export class TtlScheduler {
  private readonly producer: JobProducer;

  constructor(@InjectQueue(QueueName.TtlExpiry) private readonly queue: Queue) {
    this.producer = new JobProducer(new Map([[QueueName.TtlExpiry, queue]]));
  }

  /** Removes the bytes of deleted objects (retried with the default backoff until S3 answers). */
  async schedulePurges(objectIds: readonly string[]): Promise<void> {
    await this.producer.enqueueBulk(
      JobName.ObjectPurge,
      objectIds.map((objectId) => ({
        data: { objectId },
        opts: { jobId: jobIdFor(JobName.ObjectPurge, objectId) },
      })),
    );
  }

  /**
   * Retries the purges of these objects that used up their attempts: a failed job keeps its id, and BullMQ
   * ignores adding an id it holds, so without this a permanently failed purge would never run again.
   */
  async retryFailedPurges(objectIds: readonly string[]): Promise<number> {
    let retried = 0;
    for (const objectId of objectIds) {
      const job = await this.queue.getJob(jobIdFor(JobName.ObjectPurge, objectId));
      if (job && (await job.isFailed())) {
        await job.retry('failed');
        retried++;
      }
    }
    return retried;
  }

  /** PING through the queue's connection (readiness). */
  async ping(): Promise<string> {
    return (await this.queue.client).ping();
  }
}
