import { Injectable } from '@nestjs/common';
import { RunStateMachine } from './run-state-machine.service';
import { RunsRepository } from './runs.repository';

/** Runs whose uploads never came: a waiting run expires once an edge's PutURL expired unused. */
@Injectable()
export class RunExpiryService {
  constructor(
    private readonly repo: RunsRepository,
    private readonly states: RunStateMachine,
  ) {}

  /** WAITING → EXPIRED when an edge's PutURL expired unused (the watcher, past the TTL). */
  async expireIfOverdue(runId: string, edgeName: string): Promise<boolean> {
    return this.repo.transaction(async (m) => {
      const run = await this.repo.findRun(runId, m, true);
      if (run?.status !== 'WAITING') return false;
      const edge = (await this.repo.edges(runId, m)).find((e) => e.edge === edgeName);
      if (!edge || edge.filledAt || new Date(edge.expiresAt).getTime() > Date.now()) return false;
      await this.states.transition(
        m,
        runId,
        ['WAITING'],
        'EXPIRED',
        `no upload to edge '${edgeName}' before its PutURL expired at ${new Date(edge.expiresAt).toISOString()}`,
      );
      return true;
    });
  }
}
