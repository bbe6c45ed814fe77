/**
 * Run by role-credentials.int-spec.ts in a process of its own: the AWS SDK's default credential chain loads
 * its providers with dynamic import(), which Jest's module sandbox refuses. Its environment holds no
 * credentials, only where the container credentials endpoint is. Prints one JSON line.
 *
 *   node -r @swc-node/register role-credentials.child.ts sdk|presign '<S3Settings JSON>'
 *
 * - `sdk`: PUTs then GETs `role/sdk.txt` with createS3Client; prints `{ body }`.
 * - `presign`: loads SigningCredentials, presigns a PUT of `role/presigned.txt` for 3600 s and a thousand
 *   more URLs at once, then GETs of it until one carries another session token than the PUT's; prints
 *   `{ put, get, urlsSigned }`.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  createS3Client,
  Presigner,
  s3CredentialProvider,
  type S3Settings,
  SigningCredentials,
} from '@lib/s3';

async function sdk(settings: S3Settings): Promise<{ body: string }> {
  const client = createS3Client(settings);
  try {
    await client.send(
      new PutObjectCommand({ Bucket: settings.bucket, Key: 'role/sdk.txt', Body: 'via the SDK' }),
    );
    const got = await client.send(
      new GetObjectCommand({ Bucket: settings.bucket, Key: 'role/sdk.txt' }),
    );
    return { body: await got.Body!.transformToString() };
  } finally {
    client.destroy();
  }
}

async function presign(settings: S3Settings) {
  const presigner = new Presigner(
    settings,
    await SigningCredentials.load(s3CredentialProvider(settings)),
  );
  const token = (url: string) => new URL(url).searchParams.get('X-Amz-Security-Token');
  const put = presigner.presignPut('role/presigned.txt', { expiresInSeconds: 3600 });
  let urlsSigned = 1;
  for (; urlsSigned <= 1000; urlsSigned++)
    presigner.presignGet(`role/${urlsSigned}`, { expiresInSeconds: 60 });
  let get: string;
  do {
    await new Promise((resolve) => setTimeout(resolve, 10));
    get = presigner.presignGet('role/presigned.txt', { expiresInSeconds: 3600 });
    urlsSigned += 1;
  } while (token(get) === token(put));
  return { put, get, urlsSigned };
}

async function main(): Promise<void> {
  const [mode, settingsJson] = process.argv.slice(2);
  const settings = JSON.parse(settingsJson) as S3Settings;
  const result = mode === 'sdk' ? await sdk(settings) : await presign(settings);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
