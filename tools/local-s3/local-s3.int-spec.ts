import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client, Presigner, type S3Settings } from '@lib/s3';
import { startTestS3, type TestS3, waitFor } from '@lib/testing';
import { decodeS3EventKey, type S3NotificationRecord } from './index';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP request with exactly these headers (fetch would add its own). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, timeout: 10_000 },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorCode = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const errorMessage = (body: string): string | undefined =>
  /<Message>([^<]*)<\/Message>/.exec(body)?.[1];

/** The SDK error of a failing call (its S3 code and HTTP status). */
async function sdkError(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException)
      return { name: error.name, status: error.$metadata.httpStatusCode };
    throw error;
  }
  throw new Error('expected the call to fail');
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

describe('local-s3: a verifying S3 (s3rver behind a SigV4 proxy)', () => {
  let s3: TestS3;
  let settings: S3Settings;
  let client: S3Client;
  let presigner: Presigner;
  const events: S3NotificationRecord[] = [];
  const Bucket = 'platform-test';

  /** A client with other credentials or options; no retries so refusals surface as they are. */
  const clients: S3Client[] = [];
  const otherClient = (
    overrides: Partial<S3Settings>,
    extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
  ) => {
    const c = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: overrides.accessKeyId ?? settings.accessKeyId,
        secretAccessKey: overrides.secretAccessKey ?? settings.secretAccessKey,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      ...extra,
    });
    clients.push(c);
    return c;
  };

  const body = async (key: string): Promise<string> => {
    const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    return out.Body?.transformToString() ?? '';
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    settings = s3.settings;
    client = createS3Client(settings);
    presigner = new Presigner(settings);
    s3.onEvent((event) => events.push(...event.Records));
  });

  afterAll(async () => {
    client?.destroy();
    for (const c of clients) c.destroy();
    await s3?.stop();
  });

  afterEach(() => s3.clearFaults());

  describe('SDK operations (header-signed requests)', () => {
    const key = 'sdk/dir with space/ü+plus (1).txt';

    it('PutObject, GetObject, HeadObject with unicode, spaces and + in the key', async () => {
      await client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: 'hello', ContentType: 'text/plain' }),
      );
      expect(await body(key)).toBe('hello');
      const head = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      expect(head.ContentLength).toBe(5);
      expect(head.ContentType).toBe('text/plain');
    });

    it('PutObject with a stream body (UNSIGNED-PAYLOAD) and a Buffer body (hashed payload)', async () => {
      const stream = Readable.from([Buffer.from('abc'), Buffer.from('def')]);
      await client.send(
        new PutObjectCommand({ Bucket, Key: 'sdk/stream', Body: stream, ContentLength: 6 }),
      );
      expect(await body('sdk/stream')).toBe('abcdef');
      await client.send(
        new PutObjectCommand({ Bucket, Key: 'sdk/buffer', Body: Buffer.from('xyz') }),
      );
      expect(await body('sdk/buffer')).toBe('xyz');
    });

    it('accepts the aws-chunked trailer bodies of a client with default checksums, stored unframed', async () => {
      const defaults = otherClient(
        {},
        {
          requestChecksumCalculation: 'WHEN_SUPPORTED',
          responseChecksumValidation: 'WHEN_SUPPORTED',
        },
      );
      const stream = Readable.from([Buffer.from('chunk-1;'), Buffer.from('chunk-2')]);
      await defaults.send(
        new PutObjectCommand({ Bucket, Key: 'sdk/chunked', Body: stream, ContentLength: 15 }),
      );
      expect(await body('sdk/chunked')).toBe('chunk-1;chunk-2');
    });

    it('CopyObject', async () => {
      const copySource = `${Bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      await client.send(
        new CopyObjectCommand({ Bucket, Key: 'sdk/copy.txt', CopySource: copySource }),
      );
      expect(await body('sdk/copy.txt')).toBe('hello');
    });

    it('ListObjectsV2 pages with continuation tokens', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `list/item-${i}`);
      await Promise.all(
        keys.map((Key) => client.send(new PutObjectCommand({ Bucket, Key, Body: Key }))),
      );
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: 'list/',
            MaxKeys: 3,
            ContinuationToken: token,
          }),
        );
        seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
        pages += 1;
      } while (token !== undefined && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(keys);
    });

    it('DeleteObject and DeleteObjects', async () => {
      await client.send(new DeleteObjectCommand({ Bucket, Key: 'sdk/copy.txt' }));
      expect(
        (await sdkError(client.send(new HeadObjectCommand({ Bucket, Key: 'sdk/copy.txt' }))))
          .status,
      ).toBe(404);
      const out = await client.send(
        new DeleteObjectsCommand({
          Bucket,
          Delete: { Objects: [{ Key: 'sdk/stream' }, { Key: 'sdk/buffer' }] },
        }),
      );
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['sdk/buffer', 'sdk/stream']);
      const left = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'sdk/' }));
      expect(left.Contents?.map((o) => o.Key)).toEqual(['sdk/chunked', key]);
    });

    it('multipart upload of a >5 MB stream with lib-storage Upload (Expect: 100-continue parts)', async () => {
      const data = Buffer.alloc(6 * 1024 * 1024 + 123);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      const upload = new Upload({
        client,
        params: {
          Bucket,
          Key: 'multipart/big.bin',
          Body: Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)]),
        },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
      });
      await upload.done();
      const out = await client.send(new GetObjectCommand({ Bucket, Key: 'multipart/big.bin' }));
      const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      expect(bytes.length).toBe(data.length);
      expect(sha256(bytes)).toBe(sha256(data));
    });

    it('AbortMultipartUpload (added on top of s3rver)', async () => {
      const Key = 'multipart/aborted.bin';
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const UploadId = created.UploadId;
      await client.send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(1024, 1),
        }),
      );
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
      const again = await sdkError(
        client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      );
      expect(again).toEqual({ name: 'NoSuchUpload', status: 404 });
    });
  });

  describe('presigned URLs', () => {
    it('Presigner PUT works with no headers at all and with a Content-Type', async () => {
      const plain = await raw(
        presigner.presignPut('presigned/plain.bin', { expiresInSeconds: 60 }),
        {
          method: 'PUT',
          body: Buffer.from('no headers'),
        },
      );
      expect(plain.status).toBe(200);
      expect(await body('presigned/plain.bin')).toBe('no headers');

      const typed = await raw(
        presigner.presignPut('presigned/typed.json', { expiresInSeconds: 60 }),
        {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        },
      );
      expect(typed.status).toBe(200);
      const head = await client.send(
        new HeadObjectCommand({ Bucket, Key: 'presigned/typed.json' }),
      );
      expect(head.ContentType).toBe('application/json');
    });

    it('Presigner GET works, with response-content-disposition and -type overrides', async () => {
      const url = presigner.presignGet('presigned/plain.bin', {
        expiresInSeconds: 60,
        responseContentDisposition: 'attachment; filename="report (1).bin"',
        responseContentType: 'application/x-test',
      });
      const res = await raw(url);
      expect(res.status).toBe(200);
      expect(res.body).toBe('no headers');
      expect(res.headers['content-disposition']).toBe('attachment; filename="report (1).bin"');
      expect(res.headers['content-type']).toBe('application/x-test');
    });

    it("the SDK's getSignedUrl GET and PUT URLs work", async () => {
      const Key = 'presigned/sdk ü+.txt';
      const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key }), {
        expiresIn: 60,
      });
      expect((await raw(putUrl, { method: 'PUT', body: 'via sdk url' })).status).toBe(200);
      const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), {
        expiresIn: 60,
      });
      const res = await raw(getUrl);
      expect(res.status).toBe(200);
      expect(res.body).toBe('via sdk url');
    });
  });

  describe('refusals (403 with an S3 XML error)', () => {
    const key = 'refusals/object.txt';
    beforeAll(async () => {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: 'secret' }));
    });

    it('expired presigned URLs (ours and the SDK one)', async () => {
      const past = new Date(Date.now() - 2 * 3600_000);
      const ours = await raw(
        presigner.presignGet(key, { expiresInSeconds: 60, signingDate: past }),
      );
      expect(ours.status).toBe(403);
      expect(errorCode(ours.body)).toBe('AccessDenied');
      expect(errorMessage(ours.body)).toBe('Request has expired');
      const sdkUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key }), {
        expiresIn: 60,
        signingDate: past,
      });
      const sdk = await raw(sdkUrl, { method: 'PUT', body: 'overwrite' });
      expect([sdk.status, errorMessage(sdk.body)]).toEqual([403, 'Request has expired']);
      expect(await body(key)).toBe('secret');
    });

    it('tampered signature, key in the path, or query parameter', async () => {
      const url = new URL(
        presigner.presignGet(key, { expiresInSeconds: 60, responseContentDisposition: 'inline' }),
      );
      expect((await raw(url.toString())).status).toBe(200); // the untampered control

      const badSig = new URL(url);
      const sig = badSig.searchParams.get('X-Amz-Signature') ?? '';
      badSig.searchParams.set(
        'X-Amz-Signature',
        sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0'),
      );
      const tamperedPath = new URL(url);
      tamperedPath.pathname = tamperedPath.pathname.replace('object.txt', 'other.txt');
      const longer = new URL(url);
      longer.searchParams.set('X-Amz-Expires', '61');
      const disposition = new URL(url);
      disposition.searchParams.set(
        'response-content-disposition',
        'attachment; filename="evil.html"',
      );
      const extra = new URL(url);
      extra.searchParams.append('versionId', 'x');

      for (const tampered of [badSig, tamperedPath, longer, disposition, extra]) {
        const res = await raw(tampered.toString());
        expect([res.status, errorCode(res.body)]).toEqual([403, 'SignatureDoesNotMatch']);
      }
    });

    it('a PUT URL for one key cannot write another key', async () => {
      const url = new URL(presigner.presignPut('refusals/allowed.txt', { expiresInSeconds: 60 }));
      url.pathname = url.pathname.replace('allowed.txt', 'forbidden.txt');
      const res = await raw(url.toString(), { method: 'PUT', body: 'nope' });
      expect([res.status, errorCode(res.body)]).toEqual([403, 'SignatureDoesNotMatch']);
      expect(
        (
          await sdkError(
            client.send(new HeadObjectCommand({ Bucket, Key: 'refusals/forbidden.txt' })),
          )
        ).status,
      ).toBe(404);
    });

    it('wrong secret: SDK requests and presigned URLs', async () => {
      const wrong = { ...settings, secretAccessKey: 'not-the-secret' };
      expect(
        await sdkError(otherClient(wrong).send(new GetObjectCommand({ Bucket, Key: key }))),
      ).toEqual({
        name: 'SignatureDoesNotMatch',
        status: 403,
      });
      // A wrong-secret upload large enough for Expect: 100-continue is refused before its body.
      const big = otherClient(wrong).send(
        new PutObjectCommand({ Bucket, Key: key, Body: Buffer.alloc(3 * 1024 * 1024) }),
      );
      expect(await sdkError(big)).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
      const res = await raw(new Presigner(wrong).presignGet(key, { expiresInSeconds: 60 }));
      expect([res.status, errorCode(res.body)]).toEqual([403, 'SignatureDoesNotMatch']);
      expect(await body(key)).toBe('secret');
    });

    it('unknown access key', async () => {
      const unknown = { ...settings, accessKeyId: 'AKIDUNKNOWN' };
      expect(
        await sdkError(otherClient(unknown).send(new GetObjectCommand({ Bucket, Key: key }))),
      ).toEqual({
        name: 'InvalidAccessKeyId',
        status: 403,
      });
      const res = await raw(new Presigner(unknown).presignPut(key, { expiresInSeconds: 60 }), {
        method: 'PUT',
        body: 'x',
      });
      expect([res.status, errorCode(res.body)]).toEqual([403, 'InvalidAccessKeyId']);
    });

    it('anonymous GET, PUT, HEAD and list', async () => {
      const get = await raw(`${s3.endpoint}/${Bucket}/${key}`);
      expect([get.status, errorCode(get.body)]).toEqual([403, 'AccessDenied']);
      const put = await raw(`${s3.endpoint}/${Bucket}/refusals/anonymous.txt`, {
        method: 'PUT',
        body: 'anon',
      });
      expect([put.status, errorCode(put.body)]).toEqual([403, 'AccessDenied']);
      expect((await raw(`${s3.endpoint}/${Bucket}/${key}`, { method: 'HEAD' })).status).toBe(403);
      expect((await raw(`${s3.endpoint}/${Bucket}?list-type=2`)).status).toBe(403);
      expect(
        (
          await sdkError(
            client.send(new HeadObjectCommand({ Bucket, Key: 'refusals/anonymous.txt' })),
          )
        ).status,
      ).toBe(404);
    });

    it('a presigned PUT signed over content-type but sent without it (or with another one)', async () => {
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket, Key: 'refusals/typed.png', ContentType: 'image/png' }),
        { expiresIn: 60, signableHeaders: new Set(['content-type']) },
      );
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      const without = await raw(url, { method: 'PUT', body: 'png' });
      expect([without.status, errorCode(without.body)]).toEqual([403, 'SignatureDoesNotMatch']);
      const other = await raw(url, {
        method: 'PUT',
        headers: { 'content-type': 'text/html' },
        body: 'png',
      });
      expect(other.status).toBe(403);
      const right = await raw(url, {
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        body: 'png',
      });
      expect(right.status).toBe(200); // the control: the URL itself is valid
    });

    it('x-amz-* headers the signature does not cover', async () => {
      const res = await raw(presigner.presignPut('refusals/meta.txt', { expiresInSeconds: 60 }), {
        method: 'PUT',
        headers: { 'x-amz-meta-injected': 'yes' },
        body: 'x',
      });
      expect([res.status, errorMessage(res.body)]).toEqual([
        403,
        'There were headers present in the request which were not signed',
      ]);
    });

    it('header-signed requests dated more than 15 minutes away', async () => {
      const skewed = otherClient({}, { systemClockOffset: -20 * 60_000 });
      expect(await sdkError(skewed.send(new GetObjectCommand({ Bucket, Key: key })))).toEqual({
        name: 'RequestTimeTooSkewed',
        status: 403,
      });
    });

    it('a body that does not match its signed x-amz-content-sha256', async () => {
      const tampering = otherClient({});
      tampering.middlewareStack.add(
        (next) => (args) => {
          const request = (args as { request: { body?: unknown } }).request;
          if (typeof request.body === 'string') request.body = request.body.toUpperCase();
          return next(args);
        },
        { step: 'deserialize', name: 'tamperBodyAfterSigning' },
      );
      const failed = await sdkError(
        tampering.send(new PutObjectCommand({ Bucket, Key: 'refusals/hash.txt', Body: 'lower' })),
      );
      expect(failed).toEqual({ name: 'XAmzContentSHA256Mismatch', status: 400 });
      expect(
        (await sdkError(client.send(new HeadObjectCommand({ Bucket, Key: 'refusals/hash.txt' }))))
          .status,
      ).toBe(404);
    });
  });

  describe('fault injection', () => {
    it('fails matching requests only, with S3 XML errors, and stops after count', async () => {
      await client.send(new PutObjectCommand({ Bucket, Key: 'faulty/a', Body: 'a' }));
      await client.send(new PutObjectCommand({ Bucket, Key: 'healthy/b', Body: 'b' }));
      const fault = s3.injectFault({
        operation: 'GET',
        keyPrefix: 'faulty/',
        status: 503,
        count: 2,
      });
      const noRetry = otherClient({});
      const get = (Key: string) => noRetry.send(new GetObjectCommand({ Bucket, Key }));

      expect(await sdkError(get('faulty/a'))).toEqual({ name: 'SlowDown', status: 503 });
      await expect(get('healthy/b')).resolves.toBeDefined(); // other prefix
      await expect(
        noRetry.send(new HeadObjectCommand({ Bucket, Key: 'faulty/a' })),
      ).resolves.toBeDefined(); // other operation
      const url = presigner.presignGet('faulty/a', { expiresInSeconds: 60 });
      const second = await raw(url);
      expect([second.status, errorCode(second.body)]).toEqual([503, 'SlowDown']);
      expect(second.body).toContain('<RequestId>');
      expect(fault.hits).toBe(2);
      expect(fault.active).toBe(false);
      const after = await raw(url);
      expect([after.status, after.body]).toEqual([200, 'a']);
    });

    it('500 with a custom code, by method; refused requests are not counted', async () => {
      const fault = s3.injectFault({ method: 'PUT', status: 500, code: 'InternalError', count: 1 });
      const anon = await raw(`${s3.endpoint}/${Bucket}/faulty/anon`, { method: 'PUT', body: 'x' });
      expect(anon.status).toBe(403); // authentication comes first
      expect(fault.hits).toBe(0);
      const noRetry = otherClient({});
      expect(
        await sdkError(noRetry.send(new PutObjectCommand({ Bucket, Key: 'faulty/p', Body: 'p' }))),
      ).toEqual({
        name: 'InternalError',
        status: 500,
      });
      await noRetry.send(new PutObjectCommand({ Bucket, Key: 'faulty/p', Body: 'p' }));
      expect(await body('faulty/p')).toBe('p');
    });

    it('the default client retries through a single transient fault', async () => {
      const fault = s3.injectFault({ operation: 'PUT', status: 503, count: 1 });
      await client.send(new PutObjectCommand({ Bucket, Key: 'faulty/retried', Body: 'r' }));
      expect(fault.hits).toBe(1);
      expect(await body('faulty/retried')).toBe('r');
    });

    it('clearFaults removes faults without a count', async () => {
      s3.injectFault({ operation: ['LIST', 'HEAD'], status: 500 });
      const noRetry = otherClient({});
      for (let i = 0; i < 3; i++) {
        expect((await sdkError(noRetry.send(new ListObjectsV2Command({ Bucket })))).status).toBe(
          500,
        );
      }
      s3.clearFaults();
      await expect(
        noRetry.send(new ListObjectsV2Command({ Bucket, Prefix: 'faulty/' })),
      ).resolves.toBeDefined();
    });
  });

  describe('S3 notification events', () => {
    const waitForRecord = (eventName: string, key: string) =>
      waitFor(
        `${eventName} ${key}`,
        () =>
          events.find(
            (r) => r.eventName === eventName && decodeS3EventKey(r.s3.object.key) === key,
          ),
        { timeoutMs: 10_000 },
      );

    it('ObjectCreated:Put/Copy/CompleteMultipartUpload and ObjectRemoved:Delete, keys encoded like S3', async () => {
      const key = 'events/a b+c ü.txt';
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: 'e' }));
      const put = await waitForRecord('ObjectCreated:Put', key);
      expect(put.s3.object.key).toBe('events/a+b%2Bc+%C3%BC.txt');
      expect(put.s3.bucket.name).toBe(Bucket);
      expect(put.s3.object.size).toBe(1);
      expect(put.awsRegion).toBe(settings.region);

      await client.send(
        new CopyObjectCommand({
          Bucket,
          Key: 'events/copy',
          CopySource: `${Bucket}/${encodeURIComponent('events')}/${encodeURIComponent('a b+c ü.txt')}`,
        }),
      );
      await waitForRecord('ObjectCreated:Copy', 'events/copy');

      await new Upload({
        client,
        params: { Bucket, Key: 'events/multi', Body: Buffer.alloc(16) },
      }).done();
      await waitForRecord('ObjectCreated:Put', 'events/multi'); // small bodies: a single PutObject

      const Key = 'events/mpu';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const part = await client.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(10) }),
      );
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      await waitForRecord('ObjectCreated:CompleteMultipartUpload', Key);

      await client.send(new DeleteObjectCommand({ Bucket, Key: 'events/copy' }));
      await waitForRecord('ObjectRemoved:Delete', 'events/copy');
      await client.send(
        new DeleteObjectsCommand({
          Bucket,
          Delete: { Objects: [{ Key: key }, { Key: 'events/mpu' }] },
        }),
      );
      await waitForRecord('ObjectRemoved:Delete', key);
      await waitForRecord('ObjectRemoved:Delete', 'events/mpu');
    });
  });
});
