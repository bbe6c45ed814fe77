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
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  createS3Client,
  Presigner,
  s3CredentialProvider,
  SigningCredentials,
  type S3AccessKeys,
} from '@lib/s3';
import { s3ObjectExists, startTestS3, TEST_S3_BUCKET, waitFor, type TestS3 } from '@lib/testing';

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
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
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
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorCode = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const errorMessage = (body: string): string | undefined =>
  /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
/** Status and S3 error code of a raw answer. */
const refusal = (res: RawResponse): [number, string | undefined] => [
  res.status,
  errorCode(res.body),
];

/** The S3 error of a failing SDK call: its code and HTTP status. */
async function sdkError(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) {
      return { name: error.name, status: error.$metadata.httpStatusCode };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** CopySource of an object: bucket and key, each key segment URL-encoded. */
const copySource = (bucket: string, key: string): string =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

describe('test S3: S3Proxy behind the fault proxy', () => {
  const Bucket = TEST_S3_BUCKET;
  let s3: TestS3;
  let client: S3Client;
  let presigner: Presigner;
  /** Every object write the server reported, as `bucket/key`. */
  const writes: string[] = [];

  const clients: S3Client[] = [];
  /** A client without retries (refusals and faults surface as they are), configured as the platform's. */
  const noRetryClient = (config: Partial<S3ClientConfig> = {}): S3Client => {
    const c = new S3Client({
      endpoint: s3.settings.endpoint,
      region: s3.settings.region,
      forcePathStyle: true,
      credentials: s3.settings.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      ...config,
    });
    clients.push(c);
    return c;
  };
  const presignerWith = async (credentials: S3AccessKeys): Promise<Presigner> => {
    const settings = { ...s3.settings, credentials };
    return new Presigner(settings, await SigningCredentials.load(s3CredentialProvider(settings)));
  };

  const body = async (key: string): Promise<string> => {
    const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    return (await out.Body?.transformToString()) ?? '';
  };
  const exists = (key: string): Promise<boolean> => s3ObjectExists(client, Bucket, key);

  beforeAll(async () => {
    s3 = await startTestS3();
    client = createS3Client(s3.settings);
    presigner = await presignerWith(s3.settings.credentials);
    s3.onObjectWritten((bucket, key) => writes.push(`${bucket}/${key}`));
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

    it('stores the aws-chunked trailer body of a client left on default checksums unframed', async () => {
      const defaults = noRetryClient({
        requestChecksumCalculation: 'WHEN_SUPPORTED',
        responseChecksumValidation: 'WHEN_SUPPORTED',
      });
      const stream = Readable.from([Buffer.from('chunk-1;'), Buffer.from('chunk-2')]);
      await defaults.send(
        new PutObjectCommand({ Bucket, Key: 'sdk/chunked', Body: stream, ContentLength: 15 }),
      );
      expect(await body('sdk/chunked')).toBe('chunk-1;chunk-2');
    });

    it('CopyObject from and to keys with unicode, spaces and +', async () => {
      const target = 'sdk/copy of ü+plus.txt';
      await client.send(
        new CopyObjectCommand({ Bucket, Key: target, CopySource: copySource(Bucket, key) }),
      );
      expect(await body(target)).toBe('hello');
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
      await client.send(new DeleteObjectCommand({ Bucket, Key: 'sdk/copy of ü+plus.txt' }));
      expect(await exists('sdk/copy of ü+plus.txt')).toBe(false);
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

    it('multipart upload of a >5 MB stream with lib-storage Upload', async () => {
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
      // One write, at the completion (parts are no writes).
      const big = `${Bucket}/multipart/big.bin`;
      await waitFor('the upload reported', () => writes.includes(big));
      expect(writes.filter((w) => w === big)).toHaveLength(1);
    });

    it('AbortMultipartUpload', async () => {
      const Key = 'multipart/aborted.bin';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
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
        noRetryClient().send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      );
      expect(again).toEqual({ name: 'NoSuchUpload', status: 404 });
      expect(await exists(Key)).toBe(false);
      expect(writes).not.toContain(`${Bucket}/${Key}`);
    });
  });

  describe('presigned URLs', () => {
    it('Presigner PUT works with no headers at all and with a Content-Type', async () => {
      const plain = await raw(
        presigner.presignPut('presigned/plain.bin', { expiresInSeconds: 60 }),
        { method: 'PUT', body: Buffer.from('no headers') },
      );
      expect(plain.status).toBe(200);
      expect(await body('presigned/plain.bin')).toBe('no headers');

      const typed = await raw(
        presigner.presignPut('presigned/typed.json', { expiresInSeconds: 60 }),
        { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
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

    it('Presigner HEAD works', async () => {
      const res = await raw(
        presigner.presignHead('presigned/plain.bin', { expiresInSeconds: 60 }),
        { method: 'HEAD' },
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('10');
    });

    it("the SDK's getSignedUrl PUT and GET URLs work, with unicode, spaces and + in the key", async () => {
      const Key = 'presigned/sdk ü+.txt';
      const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key }), {
        expiresIn: 60,
      });
      expect((await raw(putUrl, { method: 'PUT', body: 'via sdk url' })).status).toBe(200);
      const getUrl = await getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket,
          Key,
          ResponseContentDisposition: 'inline; filename="sdk.txt"',
          ResponseContentType: 'text/x-sdk',
        }),
        { expiresIn: 60 },
      );
      const res = await raw(getUrl);
      expect(res.status).toBe(200);
      expect(res.body).toBe('via sdk url');
      expect(res.headers['content-disposition']).toBe('inline; filename="sdk.txt"');
      expect(res.headers['content-type']).toBe('text/x-sdk');
    });
  });

  describe('refusals (403 with an S3 XML error, nothing changed)', () => {
    const key = 'refusals/object.txt';
    const other = 'refusals/other.txt';

    beforeAll(async () => {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: 'secret' }));
      await client.send(new PutObjectCommand({ Bucket, Key: other, Body: 'other secret' }));
    });

    afterEach(async () => {
      expect(await body(key)).toBe('secret');
      expect(await body(other)).toBe('other secret');
    });

    it('expired presigned URLs (ours and the SDK one)', async () => {
      const past = new Date(Date.now() - 2 * 3600_000);
      const ours = await raw(
        presigner.presignGet(key, { expiresInSeconds: 60, signingDate: past }),
      );
      expect(refusal(ours)).toEqual([403, 'AccessDenied']);
      expect(errorMessage(ours.body)).toBe('Request has expired');

      const sdkUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key }), {
        expiresIn: 60,
        signingDate: past,
      });
      const sdk = await raw(sdkUrl, { method: 'PUT', body: 'overwrite' });
      expect(refusal(sdk)).toEqual([403, 'AccessDenied']);
      expect(errorMessage(sdk.body)).toBe('Request has expired');
    });

    it('a tampered signature, key in the path, or query parameter', async () => {
      const url = presigner.presignGet(key, {
        expiresInSeconds: 60,
        responseContentDisposition: 'inline',
      });
      expect((await raw(url)).status).toBe(200); // the untampered control

      const tampered = (edit: (u: URL) => void): string => {
        const u = new URL(url);
        edit(u);
        return u.toString();
      };
      const cases: Array<[string, string]> = [
        [
          'signature',
          tampered((u) => {
            const sig = u.searchParams.get('X-Amz-Signature') ?? '';
            u.searchParams.set('X-Amz-Signature', (sig.startsWith('0') ? '1' : '0') + sig.slice(1));
          }),
        ],
        ['key in the path', tampered((u) => (u.pathname = u.pathname.replace('object', 'other')))],
        ['key suffixed', tampered((u) => (u.pathname += '.bak'))],
        ['longer expiry', tampered((u) => u.searchParams.set('X-Amz-Expires', '61'))],
        [
          'response-content-disposition',
          tampered((u) =>
            u.searchParams.set('response-content-disposition', 'attachment; filename="evil.html"'),
          ),
        ],
        [
          'added response-content-type',
          tampered((u) => u.searchParams.append('response-content-type', 'text/html')),
        ],
        ['added versionId', tampered((u) => u.searchParams.append('versionId', 'x'))],
      ];
      for (const [what, tamperedUrl] of cases) {
        const res = await raw(tamperedUrl);
        expect([what, ...refusal(res)]).toEqual([what, 403, 'SignatureDoesNotMatch']);
      }
    });

    it('a PUT URL for one key cannot write another key', async () => {
      const url = presigner.presignPut('refusals/allowed.txt', { expiresInSeconds: 60 });
      for (const target of ['refusals/forbidden.txt', other]) {
        const res = await raw(url.replace('refusals/allowed.txt', target), {
          method: 'PUT',
          body: 'nope',
        });
        expect(refusal(res)).toEqual([403, 'SignatureDoesNotMatch']);
      }
      expect(await exists('refusals/forbidden.txt')).toBe(false);
    });

    it('a GET URL used to PUT or DELETE, and a PUT URL used to GET or DELETE', async () => {
      const getUrl = presigner.presignGet(key, { expiresInSeconds: 60 });
      const putUrl = presigner.presignPut(key, { expiresInSeconds: 60 });
      const attempts: Array<[string, string, string | undefined]> = [
        ['PUT', getUrl, 'overwritten'],
        ['DELETE', getUrl, undefined],
        ['GET', putUrl, undefined],
        ['DELETE', putUrl, undefined],
      ];
      for (const [method, url, payload] of attempts) {
        const res = await raw(url, { method, body: payload });
        expect([method, ...refusal(res)]).toEqual([method, 403, 'SignatureDoesNotMatch']);
      }
      // HEAD is another method too (a HEAD answer has no body to carry the error code).
      expect((await raw(getUrl, { method: 'HEAD' })).status).toBe(403);
    });

    it('a wrong secret: SDK requests and presigned URLs', async () => {
      const wrong = { ...s3.settings.credentials, secretAccessKey: 'not-the-secret' };
      const wrongClient = noRetryClient({ credentials: wrong });
      expect(await sdkError(wrongClient.send(new GetObjectCommand({ Bucket, Key: key })))).toEqual({
        name: 'SignatureDoesNotMatch',
        status: 403,
      });
      // Large enough for the SDK to send Expect: 100-continue.
      const big = wrongClient.send(
        new PutObjectCommand({ Bucket, Key: key, Body: Buffer.alloc(3 * 1024 * 1024) }),
      );
      expect(await sdkError(big)).toEqual({ name: 'SignatureDoesNotMatch', status: 403 });
      const wrongPresigner = await presignerWith(wrong);
      const get = await raw(wrongPresigner.presignGet(key, { expiresInSeconds: 60 }));
      expect(refusal(get)).toEqual([403, 'SignatureDoesNotMatch']);
      const put = await raw(wrongPresigner.presignPut(key, { expiresInSeconds: 60 }), {
        method: 'PUT',
        body: 'overwrite',
      });
      expect(refusal(put)).toEqual([403, 'SignatureDoesNotMatch']);
    });

    it('an unknown access key: SDK requests and presigned URLs', async () => {
      const unknown = { ...s3.settings.credentials, accessKeyId: 'AKIDUNKNOWN' };
      expect(
        await sdkError(
          noRetryClient({ credentials: unknown }).send(new GetObjectCommand({ Bucket, Key: key })),
        ),
      ).toEqual({ name: 'InvalidAccessKeyId', status: 403 });
      const res = await raw(
        (await presignerWith(unknown)).presignPut(key, { expiresInSeconds: 60 }),
        {
          method: 'PUT',
          body: 'overwrite',
        },
      );
      expect(refusal(res)).toEqual([403, 'InvalidAccessKeyId']);
    });

    it('anonymous GET, PUT, HEAD, DELETE and list', async () => {
      const objectUrl = `${s3.endpoint}/${Bucket}/${key}`;
      expect(refusal(await raw(objectUrl))).toEqual([403, 'AccessDenied']);
      const put = await raw(`${s3.endpoint}/${Bucket}/refusals/anonymous.txt`, {
        method: 'PUT',
        body: 'anon',
      });
      expect(refusal(put)).toEqual([403, 'AccessDenied']);
      expect((await raw(objectUrl, { method: 'HEAD' })).status).toBe(403);
      expect(refusal(await raw(objectUrl, { method: 'DELETE' }))).toEqual([403, 'AccessDenied']);
      expect(refusal(await raw(`${s3.endpoint}/${Bucket}?list-type=2`))).toEqual([
        403,
        'AccessDenied',
      ]);
      expect(await exists('refusals/anonymous.txt')).toBe(false);
    });

    it('a presigned PUT signed over content-type, sent without it or with another one', async () => {
      const Key = 'refusals/typed.png';
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket, Key, ContentType: 'image/png' }),
        { expiresIn: 60, signableHeaders: new Set(['content-type']) },
      );
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      const without = await raw(url, { method: 'PUT', body: 'png' });
      expect(refusal(without)).toEqual([403, 'SignatureDoesNotMatch']);
      const another = await raw(url, {
        method: 'PUT',
        headers: { 'content-type': 'text/html' },
        body: '<script>',
      });
      expect(refusal(another)).toEqual([403, 'SignatureDoesNotMatch']);
      expect(await exists(Key)).toBe(false);
      const right = await raw(url, {
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        body: 'png',
      });
      expect(right.status).toBe(200); // the control: the URL itself is valid
    });

    it('header-signed requests dated more than 15 minutes away', async () => {
      const requests = [
        () => new GetObjectCommand({ Bucket, Key: key }),
        () => new PutObjectCommand({ Bucket, Key: key, Body: 'overwrite' }),
      ];
      for (const minutes of [-20, 20]) {
        for (const request of requests) {
          // A client of its own per request: after a RequestTimeTooSkewed answer the SDK corrects its clock.
          const skewed = noRetryClient({ systemClockOffset: minutes * 60_000 });
          const command = request();
          const what = `${command.constructor.name} ${minutes} min`;
          expect([what, await sdkError(skewed.send(command))]).toEqual([
            what,
            { name: 'RequestTimeTooSkewed', status: 403 },
          ]);
        }
      }
    });

    it('a body that does not match its signed x-amz-content-sha256, or its Content-MD5', async () => {
      const tampering = noRetryClient();
      tampering.middlewareStack.add(
        (next) => (args) => {
          const request = (args as { request: { body?: unknown } }).request;
          if (typeof request.body === 'string') request.body = request.body.toUpperCase();
          return next(args);
        },
        { step: 'deserialize', name: 'tamperBodyAfterSigning' },
      );
      const tampered = tampering.send(
        new PutObjectCommand({ Bucket, Key: 'refusals/hash.txt', Body: 'lower' }),
      );
      expect(await sdkError(tampered)).toEqual({ name: 'XAmzContentSHA256Mismatch', status: 400 });
      expect(await exists('refusals/hash.txt')).toBe(false);

      const md5OfEmpty = '1B2M2Y8AsgTpgAmY7PhCfg==';
      const badMd5 = noRetryClient().send(
        new PutObjectCommand({
          Bucket,
          Key: 'refusals/md5.txt',
          Body: 'abc',
          ContentMD5: md5OfEmpty,
        }),
      );
      expect(await sdkError(badMd5)).toEqual({ name: 'BadDigest', status: 400 });
      expect(await exists('refusals/md5.txt')).toBe(false);
    });
  });

  describe('fault injection', () => {
    it('fails matching requests only, with S3 XML errors, until count requests failed', async () => {
      await client.send(new PutObjectCommand({ Bucket, Key: 'faulty/a', Body: 'a' }));
      await client.send(new PutObjectCommand({ Bucket, Key: 'healthy/b', Body: 'b' }));
      const fault = s3.injectFault({
        operation: 'GET',
        keyPrefix: 'faulty/',
        status: 503,
        count: 2,
      });
      const noRetry = noRetryClient();
      const get = (Key: string) => noRetry.send(new GetObjectCommand({ Bucket, Key }));

      expect(await sdkError(get('faulty/a'))).toEqual({ name: 'SlowDown', status: 503 });
      expect(await (await get('healthy/b')).Body?.transformToString()).toBe('b'); // other prefix
      const head = await noRetry.send(new HeadObjectCommand({ Bucket, Key: 'faulty/a' }));
      expect(head.ContentLength).toBe(1); // other operation
      const url = presigner.presignGet('faulty/a', { expiresInSeconds: 60 });
      const second = await raw(url); // presigned requests are matched alike
      expect(refusal(second)).toEqual([503, 'SlowDown']);
      expect(second.headers['content-type']).toBe('application/xml');
      expect(errorMessage(second.body)).toBe('injected fault');
      expect([fault.hits, fault.active]).toEqual([2, false]);

      const after = await raw(url);
      expect([after.status, after.body]).toEqual([200, 'a']);
    });

    it('500 with a custom code and message, by method', async () => {
      const fault = s3.injectFault({
        method: 'PUT',
        status: 500,
        code: 'InternalError',
        message: 'disk on fire',
        count: 1,
      });
      const res = await raw(presigner.presignPut('faulty/p', { expiresInSeconds: 60 }), {
        method: 'PUT',
        body: 'p',
      });
      expect(refusal(res)).toEqual([500, 'InternalError']);
      expect(errorMessage(res.body)).toBe('disk on fire');
      expect(await exists('faulty/p')).toBe(false);
      expect(fault.active).toBe(false);

      const custom = s3.injectFault({ method: 'PUT', status: 503, code: 'ServiceUnavailable' });
      const noRetry = noRetryClient();
      const put = () => noRetry.send(new PutObjectCommand({ Bucket, Key: 'faulty/p', Body: 'p' }));
      expect(await sdkError(put())).toEqual({ name: 'ServiceUnavailable', status: 503 });
      custom.remove();
      expect(custom.active).toBe(false);
      await put();
      expect(await body('faulty/p')).toBe('p');
    });

    it('the default client retries through a single transient fault', async () => {
      const fault = s3.injectFault({ operation: 'PUT', status: 503, count: 1 });
      await client.send(new PutObjectCommand({ Bucket, Key: 'faulty/retried', Body: 'r' }));
      expect(fault.hits).toBe(1);
      expect(await body('faulty/retried')).toBe('r');
    });

    it('clearFaults removes faults without a count', async () => {
      const fault = s3.injectFault({ operation: ['LIST', 'HEAD'], status: 500 });
      // The default client gives up after its 3 attempts.
      expect(await sdkError(client.send(new ListObjectsV2Command({ Bucket })))).toEqual({
        name: 'InternalError',
        status: 500,
      });
      expect(fault.hits).toBe(3);
      const noRetry = noRetryClient();
      expect(
        await sdkError(noRetry.send(new HeadObjectCommand({ Bucket, Key: 'faulty/a' }))),
      ).toMatchObject({ status: 500 });
      expect(fault.hits).toBe(4);

      s3.clearFaults();
      expect(fault.active).toBe(false);
      const list = await noRetry.send(new ListObjectsV2Command({ Bucket, Prefix: 'faulty/' }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(['faulty/a', 'faulty/p', 'faulty/retried']);
    });
  });

  describe('onObjectWritten', () => {
    it('reports PUT (SDK and presigned), copy and multipart-complete writes, and nothing else', async () => {
      const seen: string[] = [];
      const unsubscribe = s3.onObjectWritten((bucket, key) => seen.push(`${bucket}/${key}`));
      const reported = (key: string) =>
        waitFor(`write of ${key} reported`, () => seen.includes(`${Bucket}/${key}`));

      const key = 'written/a b+c ü.txt';
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: 'w' }));
      await reported(key);

      // Neither reads, deletes, refused writes, faulted writes nor multipart parts are writes.
      await client.send(new GetObjectCommand({ Bucket, Key: key }));
      await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      await raw(`${s3.endpoint}/${Bucket}/written/anonymous`, { method: 'PUT', body: 'x' });
      s3.injectFault({ operation: 'PUT', keyPrefix: 'written/faulted', status: 500 });
      await sdkError(
        noRetryClient().send(new PutObjectCommand({ Bucket, Key: 'written/faulted', Body: 'x' })),
      );

      await client.send(
        new CopyObjectCommand({ Bucket, Key: 'written/copy', CopySource: copySource(Bucket, key) }),
      );
      await reported('written/copy');

      const Key = 'written/mpu';
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
      await reported(Key);

      await client.send(new DeleteObjectCommand({ Bucket, Key: 'written/copy' }));
      const presignedPut = presigner.presignPut('written/presigned', { expiresInSeconds: 60 });
      expect((await raw(presignedPut, { method: 'PUT', body: 'p' })).status).toBe(200);
      await reported('written/presigned');

      expect(seen).toEqual([
        `${Bucket}/${key}`,
        `${Bucket}/written/copy`,
        `${Bucket}/written/mpu`,
        `${Bucket}/written/presigned`,
      ]);

      unsubscribe();
      await client.send(new PutObjectCommand({ Bucket, Key: 'written/after', Body: 'x' }));
      await waitFor('write after unsubscribing reported', () =>
        writes.includes(`${Bucket}/written/after`),
      );
      expect(seen).not.toContain(`${Bucket}/written/after`);
    });
  });
});
