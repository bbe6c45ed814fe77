import { Queue } from 'bullmq';
import { JobMap, JobName, JobQueue, QueueName } from '@lib/contracts';

export interface EnqueueOptions {
  /** Deduplication key: a job whose id is already waiting, delayed or active is not added twice. */
  jobId?: string;
  /** Run no earlier than this (ms since epoch). */
  runAt?: number;
}

/**
 * BullMQ job ids may contain neither `:` (its key separator) nor be plain integers, so ids are built as
 * `<job name>.<entity id>` with `:` replaced.
 */
export function jobIdFor(name: JobName, entityId: string): string {
  return `${name}.${entityId.replaceAll(':', '_')}`;
}

/** Adds typed jobs to their queues: `enqueue(JobName.ObjectExpire, { objectId })` checks the payload type. */
export class JobProducer {
  constructor(private readonly queues: ReadonlyMap<QueueName, Queue>) {}

  private queueOf(name: JobName): Queue {
    const queue = this.queues.get(JobQueue[name]);
    if (!queue) throw new Error(`queue ${JobQueue[name]} for job ${name} is not registered`);
    return queue;
  }

  async enqueue<J extends JobName>(name: J, data: JobMap[J], opts: EnqueueOptions = {}) {
    const delay = opts.runAt === undefined ? undefined : Math.max(0, opts.runAt - Date.now());
    return this.queueOf(name).add(name, data, { jobId: opts.jobId, delay });
  }

  /** Many jobs in one round trip (each keeps its own id, so deduplication still applies). */
  async enqueueBulk<J extends JobName>(
    name: J,
    jobs: { data: JobMap[J]; opts?: EnqueueOptions }[],
  ): Promise<void> {
    const now = Date.now();
    await this.queueOf(name).addBulk(
      jobs.map(({ data, opts = {} }) => ({
        name,
        data,
        opts: {
          jobId: opts.jobId,
          delay: opts.runAt === undefined ? undefined : Math.max(0, opts.runAt - now),
        },
      })),
    );
  }

  /** Moves a job to a new time: removes the old one (if not already running) and adds it again. */
  async reschedule<J extends JobName>(name: J, data: JobMap[J], jobId: string, runAt: number) {
    await this.cancel(name, jobId);
    return this.enqueue(name, data, { jobId, runAt });
  }

  /** Removes a waiting or delayed job; a job that is running finishes (its handler must re-check state). */
  async cancel(name: JobName, jobId: string): Promise<void> {
    const job = await this.queueOf(name).getJob(jobId);
    if (job && !(await job.isActive())) await job.remove();
  }
}
