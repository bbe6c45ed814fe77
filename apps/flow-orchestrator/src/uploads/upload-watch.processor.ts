import { Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { isUUID } from 'class-validator';
import { JobMap, JobName, QueueName } from '@lib/contracts';
import { RunsRepository } from '../runs/runs.repository';
import { RunsService } from '../runs/runs.service';

const MAX_DELAY_MS = Number(process.env.UPLOAD_WATCH_MAX_DELAY_MS ?? 5_000);
const MIN_DELAY_MS = 100;

/**
 * The next check of a waiting PutURL: often right after the URL was handed out (uploads usually follow at
 * once), then less and less (a quarter of the time waited so far, at most UPLOAD_WATCH_MAX_DELAY_MS), and
 * once more right at the TTL.
 */
export function nextCheckAt(createdAt: number, expiresAt: number, now: number): number {
  const delay = Math.min(MAX_DELAY_MS, Math.max(MIN_DELAY_MS, (now - createdAt) / 4));
  return Math.min(now + delay, expiresAt);
}

/**
 * The `upload-watch` queue: one job per waiting edge, which checks S3 for the upload with backoff until the
 * PutURL's TTL, fills the edge when the bytes are there, and expires the run when the TTL passed unused.
 */
@Processor(QueueName.UploadWatch, { concurrency: 256 })
export class UploadWatchProcessor extends WorkerHost {
  constructor(
    private readonly repo: RunsRepository,
    private readonly runs: RunsService,
  ) {
    super();
  }

  async process(job: Job<JobMap[typeof JobName.UploadWatch]>, token?: string): Promise<void> {
    const { runId, edge } = job.data ?? {};
    if (typeof runId !== 'string' || !isUUID(runId) || typeof edge !== 'string') {
      throw new UnrecoverableError(`${job.name}: invalid job ${JSON.stringify(job.data)}`);
    }
    const outcome = await this.runs.fillEdge(runId, edge);
    if (outcome !== 'not-uploaded') return;
    const row = await this.repo.findEdge(runId, edge);
    if (!row) return;
    const now = Date.now();
    const expiresAt = new Date(row.expiresAt).getTime();
    if (now >= expiresAt) {
      await this.runs.expireIfOverdue(runId, edge);
      return;
    }
    await job.moveToDelayed(nextCheckAt(new Date(row.createdAt).getTime(), expiresAt, now), token);
    throw new DelayedError();
  }
}
