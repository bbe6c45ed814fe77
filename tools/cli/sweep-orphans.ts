import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { OBJECT_LIMITS } from '@lib/contracts';
import { pgConnectionConfig } from '@lib/database';
import { createS3Client, s3AccessKeys } from '@lib/s3';
import { Client } from 'pg';
import { CliError, databaseFromEnv, optionalEnv, requireEnv } from './cli-env';

export interface SweepResult {
  scanned: number;
  orphans: number;
  deleted: number;
}

/**
 * Every table whose `object_key` says bytes belong to a file (object-metadata's records, the runs'). An
 * object still UPLOADING names its upload key for bytes complete could accept only: more than
 * `OBJECT_MAX_BYTES` there (PUT with its URL and never completed) is nobody's either. A run
 * edge names its upload key only while it waits: once filled, its input was copied to a key the run files
 * name, and what its PutURL still writes to the upload key is nobody's.
 */
const REFERENCED = `
  SELECT k FROM unnest($1::text[], $2::bigint[]) AS u(k, size)
  WHERE EXISTS (SELECT 1 FROM object_metadata.objects o
                WHERE o.object_key = k AND (o.state <> 'UPLOADING' OR size <= $3))
     OR EXISTS (SELECT 1 FROM object_metadata.org_files f WHERE f.object_key = k)
     OR EXISTS (SELECT 1 FROM object_metadata.run_files r WHERE r.object_key = k)
     OR EXISTS (SELECT 1 FROM flow.run_edges e WHERE e.object_key = k AND e.filled_at IS NULL)
     OR EXISTS (SELECT 1 FROM flow.run_files rf WHERE rf.object_key = k)`;

/**
 * `sweep-orphans`: deletes S3 bytes no record points at (an upload stored whose record was never written,
 * e.g. the gateway or object-metadata killed in between), older than `olderThanMinutes` so that uploads
 * still in progress (bytes first, record next; presigned PUTs valid 1 h) are never touched. Reads the
 * bucket page by page (S3_*; without S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, the AWS default credential
 * chain), checks each page's keys and sizes against the records (DATABASE_URL; OBJECT_MAX_BYTES, as
 * object-metadata reads it), deletes the rest.
 */
export async function runSweepOrphans(opts: {
  olderThanMinutes: number;
  dryRun: boolean;
}): Promise<SweepResult> {
  const database = databaseFromEnv('to read the file records');
  const bucket = requireEnv('S3_BUCKET', 'to list the bytes');
  const credentials = s3AccessKeys(
    optionalEnv('S3_ACCESS_KEY_ID') ?? undefined,
    optionalEnv('S3_SECRET_ACCESS_KEY') ?? undefined,
  );
  const db = new Client({ ...pgConnectionConfig(database), application_name: 'sweep-orphans' });
  const s3 = createS3Client({
    endpoint: optionalEnv('S3_ENDPOINT') ?? undefined,
    region: optionalEnv('S3_REGION') ?? 'us-east-1',
    bucket,
    credentials,
    forcePathStyle: (optionalEnv('S3_FORCE_PATH_STYLE') ?? 'true') === 'true',
  });
  try {
    await db.connect();
  } catch (e) {
    s3.destroy();
    throw new CliError(`cannot connect to Postgres (DATABASE_URL): ${(e as Error).message}`);
  }
  const cutoff = Date.now() - opts.olderThanMinutes * 60_000;
  const objectMaxBytes = Number(optionalEnv('OBJECT_MAX_BYTES') ?? OBJECT_LIMITS.defaultMaxBytes);
  if (!Number.isSafeInteger(objectMaxBytes) || objectMaxBytes < 1) {
    throw new CliError('OBJECT_MAX_BYTES must be a whole number of bytes, 1 or more');
  }
  const result: SweepResult = { scanned: 0, orphans: 0, deleted: 0 };
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 1000 }),
      );
      token = page.NextContinuationToken;
      const listed = (page.Contents ?? []).filter(
        (o) => o.Key && o.LastModified && o.LastModified.getTime() <= cutoff,
      );
      const old = listed.map((o) => o.Key!);
      result.scanned += page.Contents?.length ?? 0;
      if (old.length === 0) continue;
      const { rows } = await db.query<{ k: string }>(REFERENCED, [
        old,
        listed.map((o) => o.Size ?? 0),
        objectMaxBytes,
      ]);
      const kept = new Set(rows.map((r) => r.k));
      const orphans = old.filter((k) => !kept.has(k));
      result.orphans += orphans.length;
      if (orphans.length === 0 || opts.dryRun) continue;
      const res = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: orphans.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (res.Errors?.length) {
        throw new CliError(
          `S3 refused to delete ${res.Errors.length} key(s): ${res.Errors[0].Message}`,
        );
      }
      result.deleted += orphans.length;
    } while (token);
    return result;
  } finally {
    await db.end();
    s3.destroy();
  }
}
