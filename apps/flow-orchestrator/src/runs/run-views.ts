import { Injectable } from '@nestjs/common';
import { FlowRunView, workflowResourceUri } from '@lib/contracts';
import { RunNotFoundException } from './runs.exception';
import { Run, RunsRepository } from './runs.repository';

/** Runs as the flows API answers them (`FlowRunView`). */
@Injectable()
export class RunViews {
  constructor(private readonly repo: RunsRepository) {}

  /** A run of the org as the flows API shows it; 404 for another org's. */
  async status(orgId: string, runId: string): Promise<FlowRunView> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    return this.view(run);
  }

  /** The flows API's view of a run: its files, and its open PutURLs while it waits. */
  async view(run: Run): Promise<FlowRunView> {
    const [edges, files] = await Promise.all([
      run.status === 'WAITING' ? this.repo.edges(run.id) : Promise.resolve([]),
      this.repo.runFiles(run.id),
    ]);
    const fileView = (direction: 'input' | 'output') =>
      files
        .filter((f) => f.direction === direction)
        .map((f) => ({
          Edge: f.edge,
          Name: f.filename,
          URI: workflowResourceUri(
            run.workflowId,
            direction === 'input' ? 'uploads' : 'artifacts',
            f.filename,
          ),
          ObjectKey: f.objectKey,
          SizeBytes: f.sizeBytes,
        }));
    const view: FlowRunView = {
      ID: run.id,
      Status: run.status,
      WorkflowID: run.workflowId,
      WorkflowName: run.workflowName,
      CurrentStep: run.currentStepId,
      Inputs: fileView('input'),
      Artifacts: fileView('output'),
      CreatedAt: new Date(run.createdAt).toISOString(),
      UpdatedAt: new Date(run.updatedAt).toISOString(),
    };
    if (run.reason) view.Reason = run.reason;
    if (run.status === 'WAITING') {
      view.WaitingURLs = edges
        .filter((e) => !e.filledAt)
        .map((e) => ({
          Artifact: { StoreName: e.store, ObjectName: e.objectName, EdgeName: e.edge },
          PutURL: e.putUrl,
          // Whole seconds, as the flows API shows it (rounded down: the URL is valid a little longer).
          TTL: new Date(e.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }));
    }
    return view;
  }
}
