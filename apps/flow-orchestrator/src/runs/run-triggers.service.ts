import { Injectable } from '@nestjs/common';
import { EventActor, FlowRunView, Topic, TriggerResultView } from '@lib/contracts';
import { OutboxWriter, uuidv7 } from '@lib/events';
import { MicroBatcher } from '@lib/queue';
import { runCreatedEvent } from './run-events';
import { RunQueue } from './run-queue.service';
import { RunStateMachine } from './run-state-machine.service';
import { RunViews } from './run-views';
import { WorkflowNotFoundException } from './runs.exception';
import { Run, RunsRepository, Workflow } from './runs.repository';
import { WorkflowDefinitionsService } from './workflow-definitions.service';

export interface StartCommand {
  orgId: string;
  orgKey: string;
  createdBy?: string | null;
  actor: EventActor;
}

/** One trigger waiting for its batch. */
interface PendingTrigger {
  workflowId: string;
  payload: unknown;
  cmd: StartCommand;
}

/** New runs: `POST /api/v1/flow/{name}` and org storage's triggers. Each creation publishes `run.created`. */
@Injectable()
export class RunTriggersService {
  /**
   * Concurrent triggers, batched: one workflow lookup, one transaction and one BullMQ round trip per batch.
   * One batch at a time: triggers arriving meanwhile form the next one, so batches grow with the load.
   */
  private readonly triggers = new MicroBatcher<PendingTrigger, TriggerResultView | Error>({
    maxSize: 256,
    lingerMs: 2,
    maxInFlight: 1,
    run: (triggers) => this.createQueued(triggers),
  });

  constructor(
    private readonly repo: RunsRepository,
    private readonly outbox: OutboxWriter,
    private readonly queue: RunQueue,
    private readonly definitions: WorkflowDefinitionsService,
    private readonly states: RunStateMachine,
    private readonly views: RunViews,
  ) {}

  /**
   * `POST /api/v1/flow/{name}`: with a definition, creates or updates the workflow, then starts a run; with
   * none (`null`), runs the stored definition. A flow with upload data wells answers WAITING with its
   * PutURLs at once (the first step, awaiting inputs, runs inline); any other run is queued.
   */
  async startByName(name: string, body: unknown, cmd: StartCommand): Promise<FlowRunView> {
    const workflow = await this.definitions.define(cmd, name, body);
    const run = await this.start(workflow, cmd);
    return this.views.view(run);
  }

  /** Org storage's trigger: a run of the workflow at its starting step, through the run queue. */
  async trigger(
    workflowId: string,
    payload: unknown,
    cmd: StartCommand,
  ): Promise<TriggerResultView> {
    const answer = await this.triggers.submit({ workflowId, payload: payload ?? null, cmd });
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /**
   * Queued runs created together: concurrent triggers within a few milliseconds share their workflow lookup
   * (one query), one transaction (one INSERT, one outbox INSERT) and one BullMQ round trip; each caller
   * still gets its own run's answer, or its own 404.
   */
  private async createQueued(
    triggers: PendingTrigger[],
  ): Promise<Map<PendingTrigger, TriggerResultView | Error>> {
    const ids = [...new Set(triggers.map((t) => t.workflowId))];
    const workflows = new Map((await this.repo.findWorkflowsById(ids)).map((w) => [w.id, w]));
    const answers = new Map<PendingTrigger, TriggerResultView | Error>();
    const runs: Run[] = [];
    const runOf = new Map<PendingTrigger, Run>();
    for (const t of triggers) {
      const found = workflows.get(t.workflowId);
      const workflow = found?.orgId === t.cmd.orgId ? found : undefined; // another org's: not found
      if (!workflow) answers.set(t, new WorkflowNotFoundException(`No workflow '${t.workflowId}'`));
      else if (!workflow.flow) {
        answers.set(t, new WorkflowNotFoundException(`Workflow '${t.workflowId}' has no flow`));
      } else if (!workflow.startingStepId) {
        answers.set(
          t,
          new WorkflowNotFoundException(`Workflow '${t.workflowId}' has no starting_step_id`),
        );
      } else {
        const run = this.newRun(workflow, t.payload, t.cmd);
        runs.push(run);
        runOf.set(t, run);
      }
    }
    if (runs.length === 0) return answers;
    await this.repo.transaction(async (m) => {
      await this.repo.insertRuns(m, runs);
      await this.outbox.appendMany(
        m,
        runs.map((run) => ({ topic: Topic.RunCreated, key: run.id, data: runCreatedEvent(run) })),
      );
    });
    // Committed: if Redis fails now, the reconciler enqueues these runs.
    const results = await this.queue.executeMany(runs.map((r) => r.id));
    const resultOf = new Map(runs.map((run, i) => [run, results[i]]));
    for (const [t, run] of runOf) answers.set(t, { runId: run.id, result: resultOf.get(run)! });
    return answers;
  }

  private newRun(workflow: Workflow, payload: unknown, cmd: StartCommand): Run {
    const now = new Date();
    return {
      id: uuidv7(),
      workflowId: workflow.id,
      orgId: workflow.orgId,
      orgKey: workflow.orgKey,
      workflowName: workflow.name,
      status: 'QUEUED',
      reason: null,
      definition: workflow.flow!,
      payload,
      currentStepId: null,
      actor: cmd.actor,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** `POST /api/v1/flow/{name}`'s run: WAITING at once when the flow awaits uploads, else queued. */
  private async start(workflow: Workflow, cmd: StartCommand): Promise<Run> {
    let run = this.newRun(workflow, null, cmd);
    const waits = run.definition.DataWells.length > 0;
    run = await this.repo.transaction(async (m) => {
      await this.repo.insertRun(m, run);
      await this.outbox.append(m, Topic.RunCreated, run.id, runCreatedEvent(run));
      if (!waits) return run;
      const running = await this.states.transition(m, run.id, ['QUEUED'], 'RUNNING');
      return this.states.enterWaiting(m, running);
    });
    if (waits) await this.states.watchEdges(run.id);
    else await this.queue.execute(run.id);
    return run;
  }
}
