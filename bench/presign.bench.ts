/**
 * Presigning cost, same process, same settings: the platform's Presigner (@lib/s3) against the AWS SDK's
 * getSignedUrl (the baseline). Run: `npm run bench:presign`. Prints a markdown table row per variant.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  createS3Client,
  Presigner,
  s3CredentialProvider,
  S3Settings,
  SigningCredentials,
} from '@lib/s3';
import { report } from './lib/report';

const settings: S3Settings = {
  endpoint: 'http://127.0.0.1:9000',
  region: 'us-east-1',
  bucket: 'platform',
  credentials: { accessKeyId: 'bench-access-key', secretAccessKey: 'bench-secret-access-key' },
  forcePathStyle: true,
};
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);

async function measure(name: string, fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 2_000; i++) await fn(i); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let j = 0; j < 200; j++) await fn(n++);
  }
  const perSecond = (n / (performance.now() - start)) * 1000;
  process.stdout.write(`| ${name} | ${Math.round(perSecond).toLocaleString('en-US')} |`);
  return perSecond;
}

async function main(): Promise<void> {
  const client = createS3Client(settings);
  const presigner = new Presigner(
    settings,
    await SigningCredentials.load(s3CredentialProvider(settings)),
  );
  // A role's credentials: a session token in every URL (STS tokens are ~1 KB), valid another hour.
  const roleCredentials = await SigningCredentials.load(() =>
    Promise.resolve({
      ...settings.credentials!,
      sessionToken: 'IQoJb3JpZ2luX2VjE'.padEnd(1_000, 'x/+='),
      expiration: new Date(Date.now() + 3_600_000),
    }),
  );
  const rolePresigner = new Presigner(settings, roleCredentials);
  const key = (i: number) => `acme/objects/obj_${i}/Jq3kzP0cW1xY8uVnB2tHsLdE9aRfGm4`;
  process.stdout.write('| variant | URLs/s | ratio to SDK |\n|---|---|---|\n');
  const sdkGet = await measure('SDK getSignedUrl GET (baseline)', (i) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: settings.bucket, Key: key(i) }), {
      expiresIn: 3600,
    }),
  );
  process.stdout.write(' 1.0 |\n');
  const ours = await measure('Presigner.presignGet', (i) =>
    presigner.presignGet(key(i), {
      expiresInSeconds: 3600,
      responseContentDisposition: 'attachment; filename="report.pdf"',
    }),
  );
  process.stdout.write(` ${(ours / sdkGet).toFixed(1)} |\n`);
  const oursRole = await measure('Presigner.presignGet, temporary credentials', (i) =>
    rolePresigner.presignGet(key(i), {
      expiresInSeconds: 3600,
      responseContentDisposition: 'attachment; filename="report.pdf"',
    }),
  );
  process.stdout.write(` ${(oursRole / sdkGet).toFixed(1)} |\n`);
  const sdkPut = await measure('SDK getSignedUrl PUT', (i) =>
    getSignedUrl(client, new PutObjectCommand({ Bucket: settings.bucket, Key: key(i) }), {
      expiresIn: 3600,
    }),
  );
  process.stdout.write(` ${(sdkPut / sdkGet).toFixed(1)} |\n`);
  const oursPut = await measure('Presigner.presignPut', (i) =>
    presigner.presignPut(key(i), { expiresInSeconds: 3600 }),
  );
  process.stdout.write(` ${(oursPut / sdkGet).toFixed(1)} |\n`);
  const baseline = 'SDK getSignedUrl GET';
  report({ scenario: 'SDK getSignedUrl GET (baseline)', unit: 'URLs/s', rate: sdkGet });
  for (const [scenario, rate] of [
    ['Presigner.presignGet', ours],
    ['Presigner.presignGet, temporary credentials', oursRole],
    ['SDK getSignedUrl PUT', sdkPut],
    ['Presigner.presignPut', oursPut],
  ] as const)
    report({ scenario, unit: 'URLs/s', rate, baseline, ratio: rate / sdkGet });
  client.destroy();
}

void main();
