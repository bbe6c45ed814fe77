import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { isUUID } from 'class-validator';
import { JobMap, JobName, QueueName } from '@lib/contracts';
import { RunExecutor } from './run-executor.service';

// Worker options are read when the class is declared (decorators), from the same variables the validated
// config checks at boot (FlowOrchestratorEnv); the defaults are the same.
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** The `runs` queue: `run.execute` jobs, bounded concurrency, retried with backoff (default job options). */
@Processor(QueueName.Runs, {
  concurrency: env('RUN_CONCURRENCY', 16),
  lockDuration: env('RUN_LOCK_DURATION_MS', 30_000),
  stalledInterval: Math.max(500, Math.floor(env('RUN_LOCK_DURATION_MS', 30_000) / 2)),
  maxStalledCount: 5,
})
export class RunsProcessor extends WorkerHost {
  constructor(private readonly executor: RunExecutor) {
    super();
  }

  async process(job: Job<JobMap[typeof JobName.RunExecute]>): Promise<void> {
    const runId = job.data?.runId;
    if (job.name !== JobName.RunExecute || typeof runId !== 'string' || !isUUID(runId)) {
      throw new UnrecoverableError(`${job.name}: invalid job ${JSON.stringify(job.data)}`);
    }
    const attempts = job.opts.attempts ?? 1;
    await this.executor.execute(runId, job.attemptsMade + 1 >= attempts);
  }
}
