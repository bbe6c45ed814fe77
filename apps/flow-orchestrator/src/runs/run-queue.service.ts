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
    const jobs = [
      ...runIds.map((runId) => ({ queue: this.runs, jobId: jobIdFor(JobName.RunExecute, runId) })),
      ...watches.map((w) => ({
        queue: this.watchQueue,
        jobId: jobIdFor(JobName.UploadWatch, `${w.runId}.${w.edge}`),
      })),
    ];
    let retried = 0;
    if (jobs.length > 0) {
      // Which ones failed, in one round trip for the page: a failed job's id is in its queue's failed set.
      const pipeline = (await this.runs.client).pipeline();
      for (const { queue, jobId } of jobs) pipeline.zscore(queue.keys.failed, jobId);
      const scores = (await pipeline.exec()) ?? [];
      for (const [i, [err, score]] of scores.entries()) {
        if (err) throw err;
        if (score === null) continue;
        const job = await jobs[i].queue.getJob(jobs[i].jobId);
        if (job && (await job.isFailed())) {
          await job.retry('failed');
          retried++;
        }
      }
    }
    if (runIds.length > 0) await this.executeMany(runIds);
    if (watches.length > 0) await this.watch([...watches]);
    return retried;
  }
}
