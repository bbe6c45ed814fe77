import { Injectable, Logger } from '@nestjs/common';
import { QUOTA_EXCEEDED, recordPrincipal, runFileKey, StepDefinition } from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { DomainException } from '@lib/errors';
import { MicroBatcher } from '@lib/queue';
import { RunBytes } from '../bytes/run-bytes';
import { StepFailedError, StepInput, StepOutput } from '../steps/step';
import { StepRegistry } from '../steps/step-registry';
import { RunDeadlines, untilAborted } from './run-deadlines';
import { Run, RunFile, RunsRepository } from './runs.repository';
import { RunStateMachine, SYSTEM_ACTOR, TERMINAL } from './run-state-machine.service';

/**
 * One `run.execute` job: drives a run from where Postgres says it is. Safe to run again after a crash at any
 * point: a step's output keys are fixed (in `run_steps`) before its first attempt, so a retry overwrites the
 * same objects; run files are recorded once by key; a step is marked COMPLETE, and the run advanced, in one
 * transaction. A step's effect is therefore applied once, however often its worker dies. Each attempt of a
 * step has a deadline, and so has the run (counted from its first step's start, across retries): past
 * either, the step is told to stop and the run ends in ERROR, so no run holds a worker for long.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);
  /** The first stage of the jobs running within 2 ms, one batch at a time (batches grow with the load). */
  private readonly starts = new MicroBatcher<string, boolean>({
    maxSize: 256,
    lingerMs: 2,
    maxInFlight: 1,
    run: async (ids) => {
      const moved = await this.states.startWaitingMany(ids);
      return new Map(ids.map((id) => [id, moved.has(id)]));
    },
  });

  constructor(
    private readonly repo: RunsRepository,
    private readonly states: RunStateMachine,
    private readonly bytes: RunBytes,
    private readonly metadata: ObjectMetadataClient,
    private readonly registry: StepRegistry,
    private readonly deadlines: RunDeadlines,
  ) {}

  /** `finalAttempt`: the queue will not retry this job, so a failure ends the run in ERROR. */
  async execute(runId: string, finalAttempt: boolean): Promise<void> {
    // The common first stage (a queued run that awaits uploads) is batched across concurrent jobs.
    if (await this.starts.submit(runId)) return;
    let run = await this.repo.findRun(runId);
    if (!run || TERMINAL.includes(run.status)) return;
    try {
      const awaitsInputs = run.definition.DataWells.length > 0;
      if (run.status === 'QUEUED') {
        // A run that awaits uploads starts and enters WAITING in one transaction (two events).
        run = await this.repo.transaction(async (m) => {
          const running = await this.states.transition(m, runId, ['QUEUED'], 'RUNNING');
          return awaitsInputs ? this.states.enterWaiting(m, running) : running;
        });
        if (run.status === 'WAITING') {
          await this.states.watchEdges(runId);
          return;
        }
      }
      if (awaitsInputs) {
        const edges = await this.repo.edges(runId);
        if (edges.length === 0) {
          const current = run;
          await this.repo.transaction((m) => this.states.enterWaiting(m, current));
          await this.states.watchEdges(runId);
          return;
        }
        if (edges.some((e) => !e.filledAt)) {
          await this.states.watchEdges(runId); // still waiting: make sure someone watches
          return;
        }
      }
      if (run.status === 'WAITING') {
        run = await this.repo.transaction((m) =>
          this.states.transition(m, runId, ['WAITING'], 'RUNNING'),
        );
      }
      await this.runSteps(run);
      await this.repo.transaction((m) => this.states.transition(m, runId, ['RUNNING'], 'COMPLETE'));
    } catch (err) {
      if (!(err instanceof StepFailedError) && !finalAttempt) throw err; // BullMQ retries with backoff
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(`run ${runId} failed: ${reason}`);
      await this.repo.transaction(async (m) => {
        const current = await this.repo.findRun(runId, m, true);
        if (current && !TERMINAL.includes(current.status)) {
          await this.states.transition(m, runId, [current.status], 'ERROR', reason.slice(0, 1000));
        }
      });
    }
  }

  private async runSteps(run: Run): Promise<void> {
    const def = run.definition;
    const byId = new Map(def.Steps.map((s) => [s.ID, s]));
    const files = await this.repo.runFiles(run.id);
    const startedAt = (await this.repo.firstStepStartedAt(run.id)) ?? new Date();
    const runEndsAt = startedAt.getTime() + this.deadlines.runMs;
    let stepId: string | null = run.currentStepId ?? def.StartingStepID;
    while (stepId !== null) {
      const step = byId.get(stepId);
      if (!step) throw new StepFailedError(`unknown step '${stepId}'`);
      await this.runStep(run, step, files, runEndsAt);
      stepId = step.Next ?? null;
    }
  }

  private async runStep(
    run: Run,
    step: StepDefinition,
    files: RunFile[],
    runEndsAt: number,
  ): Promise<void> {
    const inputs: StepInput[] = (step.Inputs ?? []).flatMap((edge) =>
      files
        .filter((f) => f.edge === edge)
        .map((f) => ({
          edge,
          filename: f.filename,
          objectKey: f.objectKey,
          sizeBytes: f.sizeBytes,
          contentType: f.contentType,
        })),
    );
    const handler = this.registry.get(step.Type);
    const planned = handler.plan(step, inputs);
    const fresh = Object.fromEntries(
      planned.map((name, i) => [
        String(i),
        runFileKey(run.orgKey, run.workflowId, run.id, 'outputs', name),
      ]),
    );
    const row = await this.repo.beginStep(run.id, step.ID, fresh);
    const next = step.Next ?? null;
    if (row.status === 'COMPLETE') return; // done before a crash; its files are in `files` already
    const outputKeys = planned.map((_, i) => row.outputKeys[String(i)]);
    const outputs = await this.withDeadline(step, runEndsAt, (signal) =>
      handler.run({
        runId: run.id,
        workflowId: run.workflowId,
        workflowName: run.workflowName,
        payload: run.payload,
        createdAt: new Date(run.createdAt),
        step,
        inputs,
        outputKeys,
        bytes: this.bytes,
        signal,
      }),
    );
    const edge = step.Output ?? step.ID;
    for (const [i, o] of outputs.entries()) {
      try {
        await this.metadata.recordRunFile(recordPrincipal(run, SYSTEM_ACTOR), {
          workflowId: run.workflowId,
          runId: run.id,
          edge,
          direction: 'output',
          objectKey: o.objectKey,
          filename: o.filename,
          sizeBytes: o.stored.sizeBytes,
          contentType: o.stored.contentType,
          etag: o.stored.etag,
        });
      } catch (err) {
        if (!(err instanceof DomainException && err.code === QUOTA_EXCEEDED)) throw err;
        // Over the org's quota: the outputs not recorded are removed, and the run ends in ERROR.
        for (const left of outputs.slice(i)) await this.bytes.delete(left.objectKey);
        throw new StepFailedError(`step '${step.ID}': ${err.message}`);
      }
    }
    await this.repo.transaction(async (m) => {
      for (const o of outputs) {
        await this.repo.insertRunFile(m, {
          objectKey: o.objectKey,
          runId: run.id,
          workflowId: run.workflowId,
          direction: 'output',
          edge,
          stepId: step.ID,
          filename: o.filename,
          sizeBytes: o.stored.sizeBytes,
          contentType: o.stored.contentType,
          etag: o.stored.etag,
        });
      }
      await this.repo.completeStep(m, run.id, step.ID);
      await this.repo.setCurrentStep(m, run.id, next);
    });
    for (const o of outputs) {
      files.push({
        objectKey: o.objectKey,
        runId: run.id,
        workflowId: run.workflowId,
        direction: 'output',
        edge,
        stepId: step.ID,
        filename: o.filename,
        sizeBytes: o.stored.sizeBytes,
        contentType: o.stored.contentType,
        etag: o.stored.etag,
        createdAt: new Date(),
      });
    }
  }

  /** One attempt of a step, stopped at the step's deadline or the run's, whichever comes first. */
  private async withDeadline(
    step: StepDefinition,
    runEndsAt: number,
    attempt: (signal: AbortSignal) => Promise<StepOutput[]>,
  ): Promise<StepOutput[]> {
    const seconds = (ms: number) => `${ms / 1000} s`;
    const runReason = `the run exceeded its deadline (${seconds(this.deadlines.runMs)}) in step '${step.ID}'`;
    const left = runEndsAt - Date.now();
    if (left <= 0) throw new StepFailedError(runReason);
    const runFirst = left < this.deadlines.stepMs;
    const signal = AbortSignal.timeout(runFirst ? left : this.deadlines.stepMs);
    try {
      return await untilAborted(attempt(signal), signal);
    } catch (err) {
      if (!signal.aborted) throw err;
      throw new StepFailedError(
        runFirst
          ? runReason
          : `step '${step.ID}' exceeded its deadline (${seconds(this.deadlines.stepMs)})`,
      );
    }
  }
}
