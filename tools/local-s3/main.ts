/**
 * CLI: a verifying local S3 (see README.md).
 *
 *   node -r @swc-node/register tools/local-s3/main.ts --port 4568 --dir .local/s3 \
 *     --access-key local --secret-key local-secret --region us-east-1 --bucket platform
 *
 * Every option falls back to an environment variable: LOCAL_S3_PORT, LOCAL_S3_DIR,
 * S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_BUCKETS (comma-separated) or S3_BUCKET.
 * The first line on stdout is the endpoint URL; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startLocalS3 } from './local-s3';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      dir: { type: 'string' },
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      region: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(
      'usage: main.ts [--port N] [--host H] --dir DIR --access-key ID --secret-key SECRET ' +
        '[--region R] --bucket NAME [--bucket NAME...]\n',
    );
    return;
  }
  const env = process.env;
  const port = Number(values.port ?? env.LOCAL_S3_PORT ?? '4568');
  const directory = values.dir ?? env.LOCAL_S3_DIR;
  const accessKeyId = values['access-key'] ?? env.S3_ACCESS_KEY_ID;
  const secretAccessKey = values['secret-key'] ?? env.S3_SECRET_ACCESS_KEY;
  const buckets = (values.bucket ?? (env.S3_BUCKETS ?? env.S3_BUCKET ?? '').split(','))
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${port}`);
  if (directory === undefined || accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('--dir, --access-key and --secret-key (or their env variables) are required');
  }
  if (buckets.length === 0) throw new Error('at least one --bucket (or S3_BUCKETS) is required');

  const s3 = await startLocalS3({
    port,
    host: values.host ?? env.LOCAL_S3_HOST,
    directory,
    accessKeyId,
    secretAccessKey,
    region: values.region ?? env.S3_REGION,
    buckets,
  });
  process.stdout.write(`${s3.endpoint}\n`);
  process.stderr.write(
    `local-s3: ${s3.endpoint} (region ${s3.region}, buckets ${buckets.join(', ')}, data in ${directory})\n`,
  );
  const shutdown = (): void => {
    s3.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`local-s3: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-s3: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
