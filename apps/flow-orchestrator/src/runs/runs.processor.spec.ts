import 'reflect-metadata';
import type { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import type { RunExecutor } from './run-executor.service';
import { RunsProcessor } from './runs.processor';

/** Where `@Processor` keeps a processor's worker options, read by @nestjs/bullmq as it makes the worker. */
const WORKER_METADATA = 'bullmq:worker_metadata';

describe(RunsProcessor.name, () => {
  it("should register the runs worker's options from the config when it is made", () => {
    const config = {
      runs: { concurrency: 3, lockDurationMs: 12_000 },
    } as FlowOrchestratorConfig;
    new RunsProcessor({} as RunExecutor, config);

    expect(Reflect.getMetadata(WORKER_METADATA, RunsProcessor)).toEqual({
      concurrency: 3,
      lockDuration: 12_000,
      stalledInterval: 6_000,
      maxStalledCount: 5,
    });
  });
});
