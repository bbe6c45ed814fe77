import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Reconciler } from '@lib/queue';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { RunQueue } from './run-queue.service';
import { RunsRepository } from './runs.repository';

const SWEEP_LIMIT = 500;

/**
 * BullMQ holds no truth: runs that should be queued or running, and edges that wait for an upload, are
 * re-enqueued from Postgres periodically. Job ids are per run and per edge, so what Redis still has is not
 * added twice.
 */
@Injectable()
export class RunsReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunsReconciler.name);
  private readonly reconciler: Reconciler;
  private cursor: string | null = null;

  constructor(repo: RunsRepository, queue: RunQueue, { runs }: FlowOrchestratorConfig) {
    this.reconciler = new Reconciler({
      name: 'runs-reconciler',
      intervalMs: runs.reconcileIntervalMs,
      logger: this.logger,
      sweep: async () => {
        // A page per sweep, walking every active run in id order (a wait of any length is reached).
        const runs = await repo.activeRuns(this.cursor, SWEEP_LIMIT);
        this.cursor = runs.length === SWEEP_LIMIT ? runs[runs.length - 1].id : null;
        const waiting = runs.filter((r) => r.status === 'WAITING').map((r) => r.id);
        const open = await repo.openEdges(waiting); // one query for the page
        const stillWaiting = new Set(open.map((e) => e.runId));
        // Queued or running runs, and waiting ones with no open edge left (a lost resume), are executed.
        const execute = runs.filter((r) => !stillWaiting.has(r.id)).map((r) => r.id);
        await queue.ensure(execute, open);
        return runs.length;
      },
    });
  }

  /** One sweep now (tests). */
  runOnce(): Promise<void> {
    return this.reconciler.runOnce();
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }
}
