import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { orgFileKey } from '@lib/contracts';
import { createS3Client } from '@lib/s3';
import { startTestPlatform, TestPlatform } from '@lib/testing';
import { request } from 'undici';

const MiB = 1024 * 1024;

// The storage side of the streaming upload primitive (`PUT /internal/uploads`): bytes of unknown length go
// to S3 as they arrive (one PutObject, or a multipart upload past 5 MiB), and an upload past its limit or
// cut short leaves no object. The gateway side is exercised by the org storage suite.
describe('streaming uploads (storage service)', () => {
  let t: TestPlatform;
  let s3: S3Client;

  beforeAll(async () => {
    t = await startTestPlatform({ apps: ['storage'] });
    s3 = createS3Client(t.s3.settings);
  });

  afterAll(async () => {
    s3?.destroy();
    await t?.stop();
  });

  /** The gateway's service token, acting for the org of key prefix `orgKey`. */
  const asGateway = (orgKey: string) =>
    `Bearer ${t.serviceToken('gateway', 'storage', {
      orgId: randomUUID(),
      orgKey,
      userId: null,
      role: null,
      actor: { type: 'api_key', id: 'e2e' },
      workflowId: null,
    })}`;

  /** Sends `chunks` as a chunked body (no Content-Length, as the gateway streams it), as the gateway. */
  const upload = async (key: string, body: Readable, maxBytes: number) => {
    const url = new URL('/internal/uploads', t.platform.urls.storage);
    url.searchParams.set('key', key);
    url.searchParams.set('maxBytes', String(maxBytes));
    url.searchParams.set('contentType', 'text/plain');
    const res = await request(url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        authorization: asGateway(key.split('/')[0]),
      },
      body,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  const chunksOf = (total: number, chunk = 64 * 1024) =>
    Readable.from(
      (function* () {
        for (let sent = 0; sent < total; sent += chunk)
          yield randomBytes(Math.min(chunk, total - sent));
      })(),
    );

  const stored = async (key: string) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: t.s3.settings.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  };

  const keysUnder = async (prefix: string) =>
    (
      await s3.send(new ListObjectsV2Command({ Bucket: t.s3.settings.bucket, Prefix: prefix }))
    ).Contents?.map((o) => o.Key) ?? [];

  it('should store a small stream with its exact bytes when it fits in one part', async () => {
    const key = orgFileKey('stream-small');
    const bytes = randomBytes(300_000);
    const res = await upload(
      key,
      Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      10 * MiB,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ key, sizeBytes: bytes.length, etag: expect.any(String) });
    expect((await stored(key)).equals(bytes)).toBe(true);
  });

  it('should store a stream larger than one part as a multipart upload when it is within the limit', async () => {
    const key = orgFileKey('stream-large');
    const res = await upload(key, chunksOf(10 * MiB), 10 * MiB);
    expect(res.status).toBe(200);
    expect(res.body.sizeBytes).toBe(10 * MiB);
    expect((await stored(key)).length).toBe(10 * MiB);
  });

  it('should answer 413 and store nothing when the stream passes the limit', async () => {
    const key = orgFileKey('stream-over');
    const res = await upload(key, chunksOf(10 * MiB + 1), 10 * MiB);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await keysUnder('stream-over/')).toEqual([]);
  });

  it('should store nothing when the client goes away in the middle of the stream', async () => {
    const key = orgFileKey('stream-cut');
    const body = new Readable({ read() {} });
    body.push(randomBytes(6 * MiB)); // past the first part: a multipart upload is under way
    const sent = upload(key, body, 10 * MiB);
    setImmediate(() => body.destroy(new Error('client gone')));
    await expect(sent).rejects.toThrow();
    // Nothing is visible before the final PutObject / CompleteMultipartUpload, which a cut stream never reaches.
    expect(await keysUnder('stream-cut/')).toEqual([]);
  });

  it('should retry a part S3 failed once, and store the exact bytes', async () => {
    const key = orgFileKey('stream-retry');
    const bytes = randomBytes(6 * MiB);
    const fault = t.s3.injectFault({
      method: 'PUT',
      keyPrefix: 'stream-retry/',
      status: 500,
      count: 1,
    });
    const res = await upload(key, Readable.from([bytes]), 10 * MiB);
    expect(fault.hits).toBe(1);
    expect(res.status).toBe(200);
    expect((await stored(key)).equals(bytes)).toBe(true);
  });

  it('should answer 503 and store nothing when S3 keeps failing', async () => {
    const key = orgFileKey('stream-down');
    t.s3.injectFault({ method: 'PUT', keyPrefix: 'stream-down/', status: 503 });
    const res = await upload(key, Readable.from([randomBytes(1000)]), 10 * MiB);
    t.s3.clearFaults();
    expect(res.status).toBe(503);
    expect(await keysUnder('stream-down/')).toEqual([]);
  });

  it('should refuse a missing key or limit with 400', async () => {
    const url = new URL('/internal/uploads', t.platform.urls.storage);
    const res = await request(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', authorization: asGateway('any-org') },
      body: 'x',
    });
    expect(res.statusCode).toBe(400);
    await res.body.dump();
  });
});
