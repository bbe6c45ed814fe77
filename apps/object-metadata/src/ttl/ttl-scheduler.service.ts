import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '@lib/contracts';
import { jobIdFor, JobProducer } from '@lib/queue';

/** The ttl-expiry queue's jobs, named after their object so that re-adding one is a no-op. */
@Injectable()
export class TtlScheduler {
  private readonly producer: JobProducer;

  constructor(@InjectQueue(QueueName.TtlExpiry) private readonly queue: Queue) {
    this.producer = new JobProducer(new Map([[QueueName.TtlExpiry, queue]]));
  }

  /** Expires `objectId` at `runAt` (its `delete_after_time_ms`). */
  async scheduleExpiry(objectId: string, runAt: number): Promise<void> {
    await this.producer.enqueue(
      JobName.ObjectExpire,
      { objectId },
      { jobId: jobIdFor(JobName.ObjectExpire, objectId), runAt },
    );
  }

  async scheduleExpiries(objects: readonly { id: string; deleteAfterTimeMs: number }[]) {
    await this.producer.enqueueBulk(
      JobName.ObjectExpire,
      objects.map((o) => ({
        data: { objectId: o.id },
        opts: { jobId: jobIdFor(JobName.ObjectExpire, o.id), runAt: o.deleteAfterTimeMs },
      })),
    );
  }

  /** A deleted object needs no expiry; a job already running re-checks the state and does nothing. */
  async cancelExpiry(objectId: string): Promise<void> {
    await this.producer.cancel(JobName.ObjectExpire, jobIdFor(JobName.ObjectExpire, objectId));
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
   * Retries the jobs of these objects that used up their attempts: a failed job keeps its id, and BullMQ
   * ignores adding an id it holds, so without this a permanently failed expiry would never run again.
   */
  async retryFailed(name: JobName, objectIds: readonly string[]): Promise<number> {
    let retried = 0;
    for (const objectId of objectIds) {
      const job = await this.queue.getJob(jobIdFor(name, objectId));
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
