import * as http from 'node:http';
import {
  applyBucketCors,
  createS3Client,
  Presigner,
  s3CredentialProvider,
  SigningCredentials,
} from '@lib/s3';
import { startTestS3, TEST_S3_BUCKET, type TestS3 } from '@lib/testing';

const PAGE = 'http://127.0.0.1:5173';
const OTHER = 'http://127.0.0.1:5174';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
}

/** A plain HTTP request with exactly these headers (fetch would add its own, and refuses OPTIONS bodies). */
function raw(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const preflight = (url: string, origin: string, method: string) =>
  raw(url, 'OPTIONS', {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'content-type',
  });

// The local S3 server's CORS, set at its start from the origins the platform allows (S3Proxy has no
// per-bucket CORS): what a page may do with presigned URLs, behind the fault proxy and without it.
describe.each([
  ['behind the fault proxy', true],
  ['without the fault proxy', false],
])('test S3 CORS (%s)', (_name, faults) => {
  let s3: TestS3;
  let presigner: Presigner;

  beforeAll(async () => {
    s3 = await startTestS3({ faults, corsAllowedOrigins: [PAGE] });
    presigner = new Presigner(
      s3.settings,
      await SigningCredentials.load(s3CredentialProvider(s3.settings)),
    );
  });

  afterAll(() => s3?.stop());

  it('should answer the preflight of a PUT to an upload URL for an allowed origin', async () => {
    const url = presigner.presignPut('cors/a.bin', { expiresInSeconds: 300 });
    const res = await preflight(url, PAGE, 'PUT');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(PAGE);
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/PUT/);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toMatch(
      /content-type/,
    );
  });

  it('should let the page read the answers of the PUT and the GET, ETag included', async () => {
    const put = await raw(
      presigner.presignPut('cors/b.bin', { expiresInSeconds: 300 }),
      'PUT',
      { origin: PAGE, 'content-type': 'application/octet-stream' },
      'bytes',
    );
    expect(put.status).toBe(200);
    expect(put.headers['access-control-allow-origin']).toBe(PAGE);
    expect(String(put.headers['access-control-expose-headers']).toLowerCase()).toMatch(/etag/);

    const get = await raw(presigner.presignGet('cors/b.bin', { expiresInSeconds: 300 }), 'GET', {
      origin: PAGE,
    });
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(PAGE);
  });

  it('should give another origin no CORS answer', async () => {
    const url = presigner.presignPut('cors/c.bin', { expiresInSeconds: 300 });
    const res = await preflight(url, OTHER, 'PUT');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await raw(presigner.presignGet('cors/b.bin', { expiresInSeconds: 300 }), 'GET', {
      origin: OTHER,
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should say it has no per-bucket CORS, which the bucket-cors command reports', async () => {
    const client = createS3Client(s3.settings, { maxAttempts: 1 });
    try {
      await expect(applyBucketCors(client, TEST_S3_BUCKET, [PAGE])).rejects.toMatchObject({
        name: 'NotImplemented',
      });
    } finally {
      client.destroy();
    }
  });
});
