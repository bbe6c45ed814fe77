import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError, type WorkerOptions } from 'bullmq';
import { isUUID } from 'class-validator';
import { JobMap, JobName, QueueName } from '@lib/contracts';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { RunExecutor } from './run-executor.service';

/** The `runs` worker's options from the `runs` config (RUN_CONCURRENCY, RUN_LOCK_DURATION_MS). */
export function runsWorkerOptions(
  runs: FlowOrchestratorConfig['runs'],
): Omit<WorkerOptions, 'connection'> {
  return {
    concurrency: runs.concurrency,
    lockDuration: runs.lockDurationMs,
    stalledInterval: Math.max(500, Math.floor(runs.lockDurationMs / 2)),
    maxStalledCount: 5,
  };
}

/** The `runs` queue: `run.execute` jobs, bounded concurrency, retried with backoff (default job options). */
@Processor(QueueName.Runs)
export class RunsProcessor extends WorkerHost {
  constructor(
    private readonly executor: RunExecutor,
    config: FlowOrchestratorConfig,
  ) {
    super();
    // @nestjs/bullmq makes the worker from the processor's options once every provider exists (its
    // onModuleInit): registered here, from the config, they are the ones it uses.
    Processor(QueueName.Runs, runsWorkerOptions(config.runs))(RunsProcessor);
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
