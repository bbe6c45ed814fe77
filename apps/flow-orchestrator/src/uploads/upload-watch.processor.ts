import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { isUUID } from 'class-validator';
import { JobMap, JobName, QueueName } from '@lib/contracts';
import { Metrics } from '@lib/observability';
import { MicroBatcher } from '@lib/queue';
import type { Counter } from 'prom-client';
import { RunBytes } from '../bytes/run-bytes';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { RunsRepository, type WatchedEdge } from '../runs/runs.repository';
import { RunExpiryService } from '../runs/run-expiry.service';
import { RunUploadEdgesService } from '../runs/run-upload-edges.service';

const MIN_DELAY_MS = 100;

/**
 * The next check of a waiting PutURL: often right after the URL was handed out (uploads usually follow at
 * once), then less and less (a quarter of the time waited so far, at most `maxDelayMs`:
 * UPLOAD_WATCH_MAX_DELAY_MS), and once more right at the TTL.
 */
export function nextCheckAt(
  createdAt: number,
  expiresAt: number,
  now: number,
  maxDelayMs: number,
): number {
  const delay = Math.min(maxDelayMs, Math.max(MIN_DELAY_MS, (now - createdAt) / 4));
  return Math.min(now + delay, expiresAt);
}

/** `${runId} ${edge}`: a run id is a UUID, so the edge name starts at a fixed offset. */
type WatchKey = string;
const RUN_ID_LENGTH = 36;

/**
 * The `upload-watch` queue: one job per waiting edge, which checks S3 for the upload with backoff until the
 * PutURL's TTL, fills the edge when the bytes are there, and expires the run when the TTL passed unused.
 * Thousands of runs may wait at once, each checked every few seconds: a check costs one S3 HEAD and a share
 * of one query (the edges of concurrent checks are read together); only a found upload or a passed TTL takes
 * the full, transactional path of RunUploadEdgesService (or RunExpiryService).
 */
@Processor(QueueName.UploadWatch, { concurrency: 256 })
export class UploadWatchProcessor extends WorkerHost {
  private readonly edges = new MicroBatcher<WatchKey, WatchedEdge | undefined>({
    maxSize: 256,
    lingerMs: 2,
    maxInFlight: 1,
    run: async (keys) => {
      const found = await this.repo.watchedEdges(
        keys.map((key) => ({
          runId: key.slice(0, RUN_ID_LENGTH),
          edge: key.slice(RUN_ID_LENGTH + 1),
        })),
      );
      const byKey = new Map(found.map((e) => [`${e.runId} ${e.edge}`, e]));
      return new Map(keys.map((key) => [key, byKey.get(key)]));
    },
  });

  private readonly checks: Counter<'outcome'>;
  private readonly maxDelayMs: number;

  constructor(
    private readonly repo: RunsRepository,
    private readonly uploads: RunUploadEdgesService,
    private readonly expiry: RunExpiryService,
    private readonly bytes: RunBytes,
    metrics: Metrics,
    config: FlowOrchestratorConfig,
  ) {
    super();
    this.maxDelayMs = config.uploads.watchMaxDelayMs;
    this.checks = metrics.counter({
      name: 'upload_watch_checks_total',
      help: 'Checks of waiting PutURLs by the upload watcher, by outcome: waiting (checked again later), filled, refused (too large or over quota: removed, checked again later), expired, gone (filled by another notice, or the run moved on).',
      labelNames: ['outcome'],
    });
  }

  async process(job: Job<JobMap[typeof JobName.UploadWatch]>, token?: string): Promise<void> {
    const { runId, edge } = job.data ?? {};
    if (typeof runId !== 'string' || !isUUID(runId) || typeof edge !== 'string') {
      throw new UnrecoverableError(`${job.name}: invalid job ${JSON.stringify(job.data)}`);
    }
    const watched = await this.edges.submit(`${runId} ${edge}`);
    // Filled by another notice (webhook, upload endpoint), or the run moved on: nothing to watch.
    if (!watched || watched.filledAt || watched.runStatus !== 'WAITING') {
      this.checks.inc({ outcome: 'gone' });
      return;
    }
    let waiting: 'waiting' | 'refused' = 'waiting';
    if (await this.bytes.head(watched.objectKey)) {
      if (typeof (await this.uploads.fillEdge(runId, edge)) === 'string') {
        this.checks.inc({ outcome: 'filled' });
        return;
      }
      // Refused (too large, over the org's quota) and removed: the edge waits for another upload.
      waiting = 'refused';
    }
    const now = Date.now();
    const expiresAt = new Date(watched.expiresAt).getTime();
    if (now >= expiresAt) {
      await this.expiry.expireIfOverdue(runId, edge);
      this.checks.inc({ outcome: 'expired' });
      return;
    }
    this.checks.inc({ outcome: waiting });
    await job.moveToDelayed(
      nextCheckAt(new Date(watched.createdAt).getTime(), expiresAt, now, this.maxDelayMs),
      token,
    );
    throw new DelayedError();
  }
}
