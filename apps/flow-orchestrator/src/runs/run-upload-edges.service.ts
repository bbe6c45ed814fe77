import { Injectable, Logger } from '@nestjs/common';
import {
  EventActor,
  FlowRunView,
  QUOTA_EXCEEDED,
  recordPrincipal,
  runFileKey,
} from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { DomainException } from '@lib/errors';
import { isNoSuchKey, RunBytes, StoredObject } from '../bytes/run-bytes';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { RunQueue } from './run-queue.service';
import { SYSTEM_ACTOR } from './run-state-machine.service';
import { RunViews } from './run-views';
import {
  EdgeNotWaitingException,
  RunInputTooLargeException,
  RunNotFoundException,
  RunNotWaitingException,
  UnknownEdgeException,
} from './runs.exception';
import { Run, RunEdge, RunsRepository } from './runs.repository';

/**
 * What noticing an upload did: filled the edge (and resumed the run when it was the last), nothing, or
 * refused the upload (the error the upload endpoint answers: too large, or over the org's quota).
 */
export type FillOutcome =
  'filled' | 'not-uploaded' | 'already-filled' | 'not-waiting' | DomainException;

/**
 * A waiting run's upload edges: an upload noticed (the watcher, an S3 notification, the upload endpoint)
 * fills its edge once, and the run resumes when no edge waits any more.
 */
@Injectable()
export class RunUploadEdgesService {
  private readonly logger = new Logger(RunUploadEdgesService.name);
  /** The largest upload to an edge (`RUN_INPUT_MAX_BYTES`). */
  private readonly maxInputBytes: number;

  constructor(
    private readonly repo: RunsRepository,
    private readonly queue: RunQueue,
    private readonly bytes: RunBytes,
    private readonly metadata: ObjectMetadataClient,
    private readonly views: RunViews,
    { runs }: FlowOrchestratorConfig,
  ) {
    this.maxInputBytes = runs.inputMaxBytes;
  }

  /**
   * An upload was noticed (watcher, S3 webhook, upload endpoint): copies it to the edge's input key
   * (`inputOf`), records the input file there (object-metadata first, idempotent by key; then the edge, in
   * one transaction with the check that the run still waits), removes the upload and resumes the run when
   * no edge waits any more. Safe to call twice, and concurrently.
   */
  async fillEdge(runId: string, edgeName: string, actor: EventActor = SYSTEM_ACTOR) {
    // The run before the edge: a run leaves WAITING only once its edges are filled (or it expired), so when
    // another filler (watcher, webhook, upload endpoint) got there first, a run seen past WAITING comes with
    // its edge seen filled: 'already-filled', not 'not-waiting' (a 409 to the upload that filled it).
    const run = await this.repo.findRun(runId);
    const edge = await this.repo.findEdge(runId, edgeName);
    if (!edge || !run) return 'not-waiting' as FillOutcome;
    if (edge.filledAt) return 'already-filled' as FillOutcome;
    if (run.status !== 'WAITING') return 'not-waiting' as FillOutcome;
    let input: { key: string; stored: StoredObject } | null;
    try {
      input = await this.inputOf(run, edge);
      if (input) {
        this.checkInputSize(edge, input.stored.sizeBytes);
        const creator = run.actor.type === 'user' ? run.actor.id : null;
        await this.metadata.recordRunFile(recordPrincipal(run, actor, creator), {
          workflowId: run.workflowId,
          runId,
          edge: edge.edge,
          direction: 'input',
          objectKey: input.key,
          filename: edge.filename,
          sizeBytes: input.stored.sizeBytes,
          contentType: input.stored.contentType,
          etag: input.stored.etag,
        });
      }
    } catch (err) {
      if (!isRefusal(err)) throw err;
      await this.refuseUpload(run, edge, err);
      return err;
    }
    if (!input) {
      // Nothing uploaded yet; or another filler filled the edge and removed the upload since the reads above.
      const now = await this.repo.findEdge(runId, edgeName);
      return (now?.filledAt ? 'already-filled' : 'not-uploaded') as FillOutcome;
    }
    const { key, stored } = input;
    const outcome = await this.repo.transaction(async (m): Promise<FillOutcome | 'resume'> => {
      const locked = await this.repo.findRun(runId, m, true);
      if (locked?.status !== 'WAITING') {
        // Another filler of this edge may have resumed the run since the reads above.
        const now = (await this.repo.edges(runId, m)).find((e) => e.edge === edgeName);
        return now?.filledAt ? 'already-filled' : 'not-waiting';
      }
      if (!(await this.repo.fillEdge(m, runId, edgeName))) return 'already-filled';
      await this.repo.insertRunFile(m, {
        objectKey: key,
        runId,
        workflowId: run.workflowId,
        direction: 'input',
        edge: edge.edge,
        stepId: null,
        filename: edge.filename,
        sizeBytes: stored.sizeBytes,
        contentType: stored.contentType,
        etag: stored.etag,
      });
      const edges = await this.repo.edges(runId, m);
      return edges.every((e) => e.filledAt) ? 'resume' : 'filled';
    });
    if (outcome !== 'resume' && outcome !== 'filled') return outcome;
    await this.discard(runId, edge.objectKey);
    if (outcome === 'resume') await this.queue.execute(runId);
    return 'filled' as FillOutcome;
  }

  /**
   * The edge's input: the upload copied inside S3 to a key no PutURL names. A PutURL stays valid until it
   * expires and nothing revokes it, so bytes PUT with it later land on the upload key, which nothing reads
   * once the edge is filled: the run's steps, the record and every download keep the bytes noticed here.
   * Concurrent notices each copy, the first to claim the edge's input key wins and the others remove their
   * copy, so the input key is written once; a notice after a crash finds it claimed. Null when nothing is
   * uploaded.
   */
  private async inputOf(
    run: Run,
    edge: RunEdge,
  ): Promise<{ key: string; stored: StoredObject } | null> {
    let key = edge.inputKey;
    if (key === null) {
      // The watcher's usual answer (nothing yet) costs one HEAD.
      const uploaded = await this.bytes.head(edge.objectKey);
      if (!uploaded) return null;
      // Refused before a copy is made of what would be refused anyway.
      this.checkInputSize(edge, uploaded.sizeBytes);
      const copy = runFileKey(run.orgKey, run.workflowId, run.id, 'inputs', edge.filename);
      let copied: StoredObject;
      try {
        copied = await this.bytes.copy(edge.objectKey, copy);
      } catch (err) {
        if (isNoSuchKey(err)) return null; // removed by a filler that won meanwhile
        throw err;
      }
      key = await this.repo.claimInputKey(run.id, edge.edge, copy);
      if (key === copy) return { key, stored: copied };
      await this.discard(run.id, copy);
    }
    const stored = await this.bytes.head(key);
    if (!stored)
      throw new Error(`the input of edge '${edge.edge}' of run ${run.id} is gone from S3`);
    return { key, stored };
  }

  /** Throws when an upload to `edge` is more than a run input may hold. */
  private checkInputSize(edge: RunEdge, sizeBytes: number): void {
    if (sizeBytes > this.maxInputBytes) {
      throw new RunInputTooLargeException(edge.edge, sizeBytes, this.maxInputBytes);
    }
  }

  /**
   * An upload refused (too large, over the org's quota): nothing was recorded, so nothing counts; its bytes
   * (and its copy, when one was made) are removed, and the run tells why in its `Reason` while its edges go
   * on waiting. It stays WAITING rather than failing: a PutURL cannot be revoked, and only a waiting run's
   * edges are watched, so whatever else lands on them is checked the same way until they expire.
   */
  private async refuseUpload(run: Run, edge: RunEdge, refusal: DomainException): Promise<void> {
    this.logger.warn(`run ${run.id}: upload to edge '${edge.edge}' refused: ${refusal.message}`);
    const reason = `the upload to edge '${edge.edge}' was refused and removed: ${refusal.message}`;
    await this.repo.noteRefusedUpload(run.id, reason.slice(0, 1000));
    const copy = await this.repo.releaseInputKey(run.id, edge.edge);
    for (const key of [edge.objectKey, copy]) if (key) await this.discard(run.id, key);
  }

  /** Removes bytes nothing names any more; when S3 fails, they are left to the orphan sweep. */
  private async discard(runId: string, key: string): Promise<void> {
    try {
      await this.bytes.delete(key);
    } catch (err) {
      this.logger.warn(
        `could not remove spare bytes of run ${runId} (the orphan sweep will): ${String(err)}`,
      );
    }
  }

  /**
   * `POST /api/v1/upload/{runId}/{edge}` after the bytes went to the edge's key: 404 for another org's run
   * or an unknown edge, 409 when the run does not wait or the edge is filled.
   */
  async uploadTarget(orgId: string, runId: string, edgeName: string): Promise<RunEdge> {
    const run = await this.repo.findRun(runId);
    if (!run || run.orgId !== orgId) throw new RunNotFoundException(runId);
    if (run.status !== 'WAITING') throw new RunNotWaitingException(runId, run.status);
    const edge = await this.repo.findEdge(runId, edgeName);
    if (!edge) throw new UnknownEdgeException(runId, edgeName);
    if (edge.filledAt) throw new EdgeNotWaitingException(runId, edgeName, 'is already filled');
    return edge;
  }

  async completeUpload(
    orgId: string,
    runId: string,
    edgeName: string,
    actor: EventActor,
  ): Promise<FlowRunView> {
    // Ownership only: the state was checked before the first byte (`uploadTarget`); since then the
    // watcher may have noticed these very bytes.
    const owner = await this.repo.findRun(runId);
    if (!owner || owner.orgId !== orgId) throw new RunNotFoundException(runId);
    if (!(await this.repo.findEdge(runId, edgeName)))
      throw new UnknownEdgeException(runId, edgeName);
    const outcome = await this.fillEdge(runId, edgeName, actor);
    if (outcome instanceof DomainException) throw outcome;
    if (outcome === 'not-uploaded') {
      throw new EdgeNotWaitingException(runId, edgeName, 'has no uploaded bytes');
    }
    // 'already-filled' here means the watcher or an S3 notification saw these bytes first: the edge was
    // open when this upload began (checked above, and before the first byte), so it is this upload's.
    const run = await this.repo.findRun(runId);
    if (outcome === 'not-waiting') throw new RunNotWaitingException(runId, run!.status);
    return this.views.view(run!);
  }

  /** S3 notification (webhook): the key of a created object; fills the edge waiting for it, if any. */
  async objectCreated(objectKey: string): Promise<FillOutcome | 'unknown-key'> {
    const edge = await this.repo.findEdgeByKey(objectKey);
    if (!edge) return 'unknown-key';
    return this.fillEdge(edge.runId, edge.edge);
  }
}

/** A refusal of an upload: larger than a run input may be, or over the org's storage quota (object-metadata). */
function isRefusal(err: unknown): err is DomainException {
  return (
    err instanceof RunInputTooLargeException ||
    (err instanceof DomainException && err.code === QUOTA_EXCEEDED)
  );
}
