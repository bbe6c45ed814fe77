import { Injectable, Logger } from '@nestjs/common';
import {
  EventActor,
  expandKeyTemplate,
  FLOW_LIMITS,
  runFileKey,
  RunStatus,
  Topic,
} from '@lib/contracts';
import type { Tx } from '@lib/database';
import { OutboxWriter } from '@lib/events';
import { presignedUrlExpiry } from '@lib/s3';
import { RunBytes } from '../bytes/run-bytes';
import { runUpdatedEvent } from './run-events';
import { RunQueue } from './run-queue.service';
import { RunNotFoundException, RunNotWaitingException } from './runs.exception';
import { Run, RunEdge, RunsRepository } from './runs.repository';

export const TERMINAL: readonly RunStatus[] = ['COMPLETE', 'ERROR', 'EXPIRED'];

/** Who changes a run when nobody asked: upload notices, the watcher, the workers. */
export const SYSTEM_ACTOR: EventActor = { type: 'system', id: 'flow-orchestrator' };

/**
 * The life of a run: QUEUED → RUNNING → WAITING → RUNNING → COMPLETE, or ERROR, or EXPIRED. Every status
 * change publishes `run.updated` in the transaction of the change; entering WAITING creates the run's upload
 * edges (one PutURL per data well) and starts watching them.
 */
@Injectable()
export class RunStateMachine {
  private readonly logger = new Logger(RunStateMachine.name);

  constructor(
    private readonly repo: RunsRepository,
    private readonly outbox: OutboxWriter,
    private readonly queue: RunQueue,
    private readonly bytes: RunBytes,
  ) {}

  /** RUNNING → WAITING with one upload edge (and its PutURL) per data well. In the caller's transaction. */
  async enterWaiting(m: Tx, run: Run): Promise<Run> {
    await this.repo.insertEdges(m, this.edgesOf(run, new Date()));
    return this.transition(m, run.id, ['RUNNING'], 'WAITING');
  }

  /**
   * The workers' first stage for a batch of runs: every one still QUEUED that awaits uploads goes QUEUED →
   * RUNNING → WAITING with its edges, in one transaction for the batch (two `run.updated` each), and its
   * edges are watched. Returns the ids it moved; the others take the one-run path.
   */
  async startWaitingMany(ids: readonly string[]): Promise<Set<string>> {
    const now = new Date();
    const moved = await this.repo.transaction(async (m) => {
      const runs = await this.repo.startWaiting(m, ids);
      if (runs.length === 0) return runs;
      await this.repo.insertEdges(
        m,
        runs.flatMap((run) => this.edgesOf(run, now)),
      );
      await this.outbox.appendMany(
        m,
        runs.flatMap((run) => {
          const running: Run = { ...run, status: 'RUNNING', version: run.version - 1 };
          return [
            { topic: Topic.RunUpdated, key: run.id, data: runUpdatedEvent(running, 'QUEUED') },
            { topic: Topic.RunUpdated, key: run.id, data: runUpdatedEvent(run, 'RUNNING') },
          ];
        }),
      );
      return runs;
    });
    if (moved.length > 0) {
      try {
        await this.queue.watch(
          moved.flatMap((run) =>
            run.definition.DataWells.map((w) => ({ runId: run.id, edge: w.Edge })),
          ),
        );
      } catch (err) {
        this.logger.warn(`could not start watching uploads (the reconciler will): ${String(err)}`);
      }
    }
    return new Set(moved.map((r) => r.id));
  }

  private edgesOf(run: Run, now: Date): RunEdge[] {
    return run.definition.DataWells.map((well) => {
      const objectName = expandKeyTemplate(well.Key, {
        RUN_ID: run.id,
        WORKFLOW_ID: run.workflowId,
        WORKFLOW_NAME: run.workflowName,
        EDGE: well.Edge,
      });
      const filename = objectName.slice(objectName.lastIndexOf('/') + 1);
      const objectKey = runFileKey(run.orgKey, run.workflowId, run.id, 'inputs', filename);
      const putUrl = this.bytes.putUrl(objectKey, FLOW_LIMITS.uploadUrlSeconds);
      return {
        runId: run.id,
        edge: well.Edge,
        store: well.Store,
        objectName,
        filename,
        objectKey,
        putUrl,
        // The edge waits as long as its PutURL works (a role's credentials may make it short of the hour).
        expiresAt: presignedUrlExpiry(putUrl),
        inputKey: null,
        filledAt: null,
        createdAt: now,
      };
    });
  }

  /** Starts watching the run's open edges; when Redis fails, the reconciler starts it later. */
  async watchEdges(runId: string): Promise<void> {
    const edges = await this.repo.edges(runId);
    const open = edges.filter((e) => !e.filledAt).map((e) => ({ runId, edge: e.edge }));
    if (open.length === 0) return;
    try {
      await this.queue.watch(open);
    } catch (err) {
      // Postgres holds the edges: the reconciler starts the watch when Redis answers again.
      this.logger.warn(`could not start watching the uploads of ${runId}: ${String(err)}`);
    }
  }

  /** Moves a run and publishes `run.updated`; throws when the run is not in `from` (a lost race). */
  async transition(
    m: Tx,
    runId: string,
    from: readonly RunStatus[],
    to: RunStatus,
    reason: string | null = null,
  ): Promise<Run> {
    const moved = await this.repo.setStatus(m, runId, from, to, reason);
    if (!moved) throw new RunNotFoundException(runId);
    if (!moved.run) throw new RunNotWaitingException(runId, moved.previous);
    await this.outbox.append(
      m,
      Topic.RunUpdated,
      runId,
      runUpdatedEvent(moved.run, moved.previous),
    );
    return moved.run;
  }
}
