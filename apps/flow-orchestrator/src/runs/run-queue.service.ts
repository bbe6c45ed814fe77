import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '@lib/contracts';
import { jobIdFor, JobProducer } from '@lib/queue';

export interface QueueResult {
  jobId: string;
  queue: string;
  state: string;
}

/**
 * The `runs` and `upload-watch` queues. One job id per run (and per waiting edge), so re-enqueueing a run the
 * queue already holds (the reconciler, a duplicate upload notice) is a no-op: a run never executes twice
 * at once.
 */
@Injectable()
export class RunQueue {
  private readonly producer: JobProducer;

  constructor(
    @InjectQueue(QueueName.Runs) private readonly runs: Queue,
    @InjectQueue(QueueName.UploadWatch) private readonly watchQueue: Queue,
  ) {
    this.producer = new JobProducer(
      new Map([
        [QueueName.Runs, runs],
        [QueueName.UploadWatch, watchQueue],
      ]),
    );
  }

  async execute(runId: string): Promise<QueueResult> {
    const job = await this.producer.enqueue(
      JobName.RunExecute,
      { runId },
      { jobId: jobIdFor(JobName.RunExecute, runId) },
    );
    return { jobId: job.id!, queue: QueueName.Runs, state: await job.getState() };
  }

  /**
   * `execute` for many runs in one round trip. Each answer is the job BullMQ holds for the run and the
   * state it adds a job in without delay (`waiting`).
   */
  async executeMany(runIds: readonly string[]): Promise<QueueResult[]> {
    const jobs = await this.runs.addBulk(
      runIds.map((runId) => ({
        name: JobName.RunExecute,
        data: { runId },
        opts: { jobId: jobIdFor(JobName.RunExecute, runId) },
      })),
    );
    return jobs.map((job) => ({ jobId: job.id!, queue: QueueName.Runs, state: 'waiting' }));
  }

  /** Starts watching a waiting edge for its upload now (the job then backs off until the TTL). */
  async watch(items: { runId: string; edge: string }[]): Promise<void> {
    await this.producer.enqueueBulk(
      JobName.UploadWatch,
      items.map((data) => ({
        data,
        opts: { jobId: jobIdFor(JobName.UploadWatch, `${data.runId}.${data.edge}`) },
      })),
    );
  }

  /**
   * The reconciler's re-enqueue: adds the jobs, and retries those that used up their attempts (a failed
   * job keeps its id, and BullMQ ignores adding an id it holds). Returns how many it retried.
   */
  async ensure(runIds: readonly string[], watches: readonly { runId: string; edge: string }[]) {
    let retried = 0;
    const failed = async (queue: Queue, jobId: string) => {
      const job = await queue.getJob(jobId);
      if (job && (await job.isFailed())) {
        await job.retry('failed');
        retried++;
      }
    };
    for (const runId of runIds) await failed(this.runs, jobIdFor(JobName.RunExecute, runId));
    for (const w of watches) {
      await failed(this.watchQueue, jobIdFor(JobName.UploadWatch, `${w.runId}.${w.edge}`));
    }
    if (runIds.length > 0) await this.executeMany(runIds);
    if (watches.length > 0) await this.watch([...watches]);
    return retried;
  }

  async ping(): Promise<string> {
    return (await this.runs.client).ping();
  }
}
