import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { validateEnv, WithDatabase, WithS3 } from '@lib/config';
import { OBJECT_LIMITS, parseObjectKey } from '@lib/contracts';
import { pgConnectionConfig } from '@lib/database';
import { createLogger, redactSecrets, type Logger } from '@lib/observability';
import { createS3Client, s3AccessKeys } from '@lib/s3';
import { Transform } from 'class-transformer';
import { registerDecorator } from 'class-validator';
import { Client } from 'pg';
import pino from 'pino';
import { CliError } from './cli-env';

const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;

/** One rule, one message: a number (a whole one when `integer`) from `min` to `max`. */
function NumberIn(min: number, max: number, opts: { integer: boolean; message: string }) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'numberIn',
      target: target.constructor,
      propertyName,
      options: { message: opts.message },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' &&
          (opts.integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
          value >= min &&
          value <= max,
      },
    });
}

const RATIO =
  'SWEEP_MAX_DELETE_RATIO must be a number from 0 to 1 (a share of the platform keys seen)';
const MAX_DELETES = 'SWEEP_MAX_DELETES must be a whole number from 0 to 1000000';

/** What `sweep-orphans` reads from the environment, checked before it connects to anything. */
export class SweepOrphansEnv extends WithS3(WithDatabase(class {})) {
  /** As object-metadata reads it: an UPLOADING object's upload holding more is nobody's. */
  @Transform(toNumber)
  @NumberIn(1, 5 * 1024 ** 3, {
    integer: true,
    message: 'OBJECT_MAX_BYTES must be a whole number of bytes from 1 to 5 GiB',
  })
  OBJECT_MAX_BYTES: number = OBJECT_LIMITS.defaultMaxBytes;

  /** The largest share of the platform keys seen that one run may delete; more and it refuses. */
  @Transform(toNumber)
  @NumberIn(0, 1, { integer: false, message: RATIO })
  SWEEP_MAX_DELETE_RATIO: number = 0.1;

  /** The most keys one run may delete; more and it refuses (also bounds what a run holds in memory). */
  @Transform(toNumber)
  @NumberIn(0, 1_000_000, { integer: true, message: MAX_DELETES })
  SWEEP_MAX_DELETES: number = 1000;
}

/**
 * Why a key is kept or deleted. Kept: `live` (a record names it), `recent` (younger than the grace),
 * `foreign` (under an org's prefix but of no shape the platform writes, so not the platform's). Deleted:
 * `unrecorded` (no record names it), `oversized_upload` (an UPLOADING object's upload holding more than
 * OBJECT_MAX_BYTES), `filled_edge_upload` (the upload key of a run edge that is filled).
 */
export const SWEEP_REASONS = [
  'live',
  'recent',
  'foreign',
  'unrecorded',
  'oversized_upload',
  'filled_edge_upload',
] as const;
export type SweepReason = (typeof SWEEP_REASONS)[number];
type OrphanReason = Exclude<SweepReason, 'live' | 'recent' | 'foreign'>;

/** Sample keys reported per reason (tokens redacted). */
const SAMPLES = 5;
const PAGE = 1000;

export interface SweepReport {
  mode: 'dry-run' | 'delete';
  olderThanMinutes: number;
  /** Orgs whose prefix (`<orgKey>/`) was listed; keys under no org's prefix are never looked at. */
  orgs: number;
  /** Keys listed under the orgs' prefixes. */
  scanned: number;
  /** Of them, keys of a shape the platform writes. */
  platformKeys: number;
  /** Platform keys past the grace that no record names. */
  orphans: number;
  deleted: number;
  reasons: Record<SweepReason, number>;
  /** A few keys per reason but `live`, their tokens redacted as the logs redact them. */
  samples: Partial<Record<SweepReason, string[]>>;
  limits: { maxDeleteRatio: number; maxDeletes: number };
  /** Why the run refused to delete anything, when it did. */
  refused?: string;
}

/** A guard stopped the run before anything was deleted; `report` says what it saw. */
export class SweepRefusedError extends CliError {
  constructor(
    reason: string,
    readonly report: SweepReport,
  ) {
    super(`sweep-orphans refused: ${reason}; nothing was deleted`);
  }
}

/**
 * Per key (with its size and, for a run file, its run id): `live` when a record names it, else why it is
 * an orphan. An UPLOADING object names its upload key only for bytes complete could accept (at most
 * OBJECT_MAX_BYTES). A run edge names its upload key only while it waits (once filled, its input was
 * copied to a key the run files name), and the key its upload was copied to (`input_key`) from the copy
 * on. Every lookup is by an indexed column (`input_key` through the edge's run id).
 */
const CLASSIFY = `
  SELECT u.k, CASE
    WHEN EXISTS (SELECT 1 FROM object_metadata.objects o
                 WHERE o.object_key = u.k AND (o.state <> 'UPLOADING' OR u.size <= $4)) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM object_metadata.org_files f WHERE f.object_key = u.k) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM object_metadata.run_files r WHERE r.object_key = u.k) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM flow.run_files rf WHERE rf.object_key = u.k) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM flow.run_edges e
                 WHERE e.object_key = u.k AND e.filled_at IS NULL) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM flow.run_edges e
                 WHERE e.run_id = u.run AND e.input_key = u.k) THEN 'live'
    WHEN EXISTS (SELECT 1 FROM object_metadata.objects o WHERE o.object_key = u.k)
      THEN 'oversized_upload'
    WHEN EXISTS (SELECT 1 FROM flow.run_edges e WHERE e.object_key = u.k) THEN 'filled_edge_upload'
    ELSE 'unrecorded' END AS reason
  FROM unnest($1::text[], $2::bigint[], $3::uuid[]) AS u(k, size, run)`;

/** Whether any table that names bytes holds a row at all. */
const ANY_RECORD = `
  SELECT EXISTS (SELECT 1 FROM object_metadata.objects)
      OR EXISTS (SELECT 1 FROM object_metadata.org_files)
      OR EXISTS (SELECT 1 FROM object_metadata.run_files)
      OR EXISTS (SELECT 1 FROM flow.run_files)
      OR EXISTS (SELECT 1 FROM flow.run_edges) AS any`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Candidate {
  key: string;
  size: number;
  run: string | null;
}

export interface SweepOptions {
  olderThanMinutes: number;
  /** Delete the orphans; without it the run only reports (the default). */
  delete: boolean;
  /** The clock the grace is counted from (tests). */
  now?: number;
  /** Where each deletion is logged; default JSON lines on stderr. */
  logger?: Logger;
}

/**
 * `sweep-orphans`: finds S3 bytes no record points at (an upload stored whose record was never written,
 * e.g. an app killed in between), older than `olderThanMinutes` so that uploads still in progress (bytes
 * first, record next; presigned PUTs valid 1 h) are never touched, and deletes them only with
 * `delete`. Lists the prefix of each org of the identity schema, and only keys of a shape the platform
 * writes can be orphans. Refuses, deleting nothing, when the database looks empty (no orgs; no file
 * record while the bucket holds platform keys) or when the orphans are more than SWEEP_MAX_DELETES or
 * more than SWEEP_MAX_DELETE_RATIO of the platform keys it saw: a wrong DATABASE_URL, a restored backup
 * or a shared bucket must not wipe it.
 */
export async function runSweepOrphans(
  opts: SweepOptions,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<SweepReport> {
  const env = validateEnv(SweepOrphansEnv)(environment);
  const logger =
    opts.logger ??
    createLogger({
      service: 'sweep-orphans',
      destination: pino.destination({ dest: 2, sync: true }),
    });
  const db = new Client({
    ...pgConnectionConfig({ url: env.DATABASE_URL, caFile: env.DATABASE_CA_FILE }),
    application_name: 'sweep-orphans',
  });
  try {
    await db.connect();
  } catch (e) {
    throw new CliError(`cannot connect to Postgres (DATABASE_URL): ${(e as Error).message}`);
  }
  const s3 = createS3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    credentials: s3AccessKeys(env.S3_ACCESS_KEY_ID, env.S3_SECRET_ACCESS_KEY),
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
  });
  try {
    return await new Sweep(db, s3, env, opts, logger).run();
  } finally {
    await db.end();
    s3.destroy();
  }
}

class Sweep {
  private readonly report: SweepReport;
  private readonly cutoff: number;
  /** The orphans to delete (a delete run only; at most SWEEP_MAX_DELETES). */
  private readonly doomed: (Candidate & { reason: OrphanReason })[] = [];

  constructor(
    private readonly db: Client,
    private readonly s3: S3Client,
    private readonly env: SweepOrphansEnv,
    private readonly opts: SweepOptions,
    private readonly logger: Logger,
  ) {
    this.cutoff = (opts.now ?? Date.now()) - opts.olderThanMinutes * 60_000;
    this.report = {
      mode: opts.delete ? 'delete' : 'dry-run',
      olderThanMinutes: opts.olderThanMinutes,
      orgs: 0,
      scanned: 0,
      platformKeys: 0,
      orphans: 0,
      deleted: 0,
      reasons: Object.fromEntries(SWEEP_REASONS.map((r) => [r, 0])) as Record<SweepReason, number>,
      samples: {},
      limits: { maxDeleteRatio: env.SWEEP_MAX_DELETE_RATIO, maxDeletes: env.SWEEP_MAX_DELETES },
    };
  }

  async run(): Promise<SweepReport> {
    const orgKeys = (
      await this.query<{ key: string }>('SELECT key FROM identity.orgs ORDER BY key')
    ).map((o) => o.key);
    this.report.orgs = orgKeys.length;
    if (orgKeys.length === 0) {
      this.refuse(
        'the database has no orgs (identity.orgs is empty): DATABASE_URL may name an empty or ' +
          'freshly restored database',
      );
    }
    const [{ any: anyRecord }] = await this.query<{ any: boolean }>(ANY_RECORD);

    for (const orgKey of orgKeys) await this.listOrg(orgKey);

    const { platformKeys, orphans, limits } = this.report;
    if (platformKeys > 0 && !anyRecord) {
      this.refuse(
        `the database holds no file record at all while the bucket holds ${platformKeys} platform ` +
          'key(s): DATABASE_URL may name an empty or freshly restored database',
      );
    }
    this.checkCap();
    if (platformKeys > 0 && orphans / platformKeys > limits.maxDeleteRatio) {
      this.refuse(
        `${orphans} of the ${platformKeys} platform key(s) seen are orphans, more than ` +
          `SWEEP_MAX_DELETE_RATIO (${limits.maxDeleteRatio}) of them: check DATABASE_URL and ` +
          'S3_BUCKET; raise SWEEP_MAX_DELETE_RATIO for one run only if they are really orphans',
      );
    }
    if (this.opts.delete) await this.deleteDoomed();
    return this.report;
  }

  private async listOrg(orgKey: string): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.env.S3_BUCKET,
          Prefix: `${orgKey}/`,
          ContinuationToken: token,
          MaxKeys: PAGE,
        }),
      );
      token = page.NextContinuationToken;
      await this.checkPage(orgKey, page.Contents ?? []);
    } while (token);
  }

  private async checkPage(orgKey: string, listed: _Object[]): Promise<void> {
    const candidates: Candidate[] = [];
    for (const o of listed) {
      if (!o.Key) continue;
      this.report.scanned++;
      const parsed = parseObjectKey(o.Key);
      if (!parsed || parsed.orgKey !== orgKey) {
        this.count('foreign', o.Key);
        continue;
      }
      this.report.platformKeys++;
      if (!o.LastModified || o.LastModified.getTime() > this.cutoff) {
        this.count('recent', o.Key);
        continue;
      }
      const runId = parsed.kind === 'run_file' ? o.Key.split('/')[4] : null;
      candidates.push({
        key: o.Key,
        size: o.Size ?? 0,
        run: runId !== null && UUID.test(runId) ? runId : null,
      });
    }
    if (candidates.length === 0) return;
    const reasons = await this.classify(candidates);
    for (const candidate of candidates) {
      const reason = reasons.get(candidate.key) ?? 'live';
      this.count(reason, candidate.key);
      if (reason === 'live') continue;
      this.report.orphans++;
      if (this.opts.delete) {
        // Refused as soon as there are too many, so a delete run never holds more keys than that.
        this.checkCap();
        this.doomed.push({ ...candidate, reason });
      }
    }
  }

  private checkCap(): void {
    const { orphans, limits } = this.report;
    if (orphans > limits.maxDeletes) {
      this.refuse(
        `${orphans} orphan(s) found, more than SWEEP_MAX_DELETES (${limits.maxDeletes}): check ` +
          'DATABASE_URL and S3_BUCKET; raise SWEEP_MAX_DELETES for one run only if they are really orphans',
      );
    }
  }

  /** Each candidate's reason, by key. */
  private async classify(candidates: Candidate[]): Promise<Map<string, 'live' | OrphanReason>> {
    const rows = await this.query<{ k: string; reason: 'live' | OrphanReason }>(CLASSIFY, [
      candidates.map((c) => c.key),
      candidates.map((c) => c.size),
      candidates.map((c) => c.run),
      this.env.OBJECT_MAX_BYTES,
    ]);
    return new Map(rows.map((r) => [r.k, r.reason]));
  }

  /** Deletes the orphans found, a page at a time, each checked against the records once more first. */
  private async deleteDoomed(): Promise<void> {
    for (let i = 0; i < this.doomed.length; i += PAGE) {
      const batch = this.doomed.slice(i, i + PAGE);
      // A record written since the listing (it should not happen past the grace) keeps its bytes.
      const now = await this.classify(batch);
      const go: typeof batch = [];
      for (const d of batch) {
        if ((now.get(d.key) ?? 'live') !== 'live') go.push(d);
        else this.logger.warn({ object: redactSecrets(d.key) }, 'kept: a record names it now');
      }
      if (go.length === 0) continue;
      const res = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.env.S3_BUCKET,
          Delete: { Objects: go.map(({ key }) => ({ Key: key })), Quiet: true },
        }),
      );
      const failed = new Set((res.Errors ?? []).map((e) => e.Key));
      for (const d of go) {
        if (failed.has(d.key)) continue;
        this.report.deleted++;
        this.logger.info(
          { object: redactSecrets(d.key), reason: d.reason },
          'deleted orphaned bytes',
        );
      }
      if (res.Errors?.length) {
        throw new CliError(
          `S3 refused to delete ${res.Errors.length} key(s), ${this.report.deleted} were deleted: ` +
            `${res.Errors[0].Message}`,
        );
      }
    }
  }

  private count(reason: SweepReason, key: string): void {
    this.report.reasons[reason]++;
    if (reason === 'live') return;
    const samples = (this.report.samples[reason] ??= []);
    if (samples.length < SAMPLES) samples.push(redactSecrets(key));
  }

  private refuse(reason: string): never {
    this.report.refused = reason;
    throw new SweepRefusedError(reason, this.report);
  }

  /** A query whose failure for a missing schema or table says DATABASE_URL is not the platform's. */
  private async query<T extends object>(sql: string, params?: unknown[]): Promise<T[]> {
    try {
      return (await this.db.query<T>(sql, params)).rows;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '42P01' || code === '3F000') {
        throw new CliError(
          `DATABASE_URL does not name a migrated platform database (${(e as Error).message}); ` +
            'nothing was deleted',
        );
      }
      throw e;
    }
  }
}
