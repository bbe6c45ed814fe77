import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { S3Settings } from '@lib/s3';
import { REPO_ROOT, startTestS3, type TestS3 } from '@lib/testing';

interface Session {
  token: string;
  /** Lifetime from the moment it is answered. */
  seconds: number;
}

/**
 * The container credentials endpoint of ECS and EKS Pod Identity, where the AWS SDK's default chain finds it
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN). Each path answers its own
 * sequence of role sessions, the last one repeated, all with the test S3's key and secret (S3Proxy knows one
 * identity) and the session's token.
 */
class CredentialsEndpoint {
  readonly authorization = 'pod-identity-token';
  /** Credentials requests per path. */
  readonly requests = new Map<string, number>();
  private readonly sessions = new Map<string, Session[]>();
  private server?: http.Server;
  private base = '';

  constructor(private readonly keys: { accessKeyId: string; secretAccessKey: string }) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const path = req.url ?? '';
      const n = this.requests.get(path) ?? 0;
      this.requests.set(path, n + 1);
      const sessions = this.sessions.get(path);
      if (sessions === undefined || req.headers.authorization !== this.authorization) {
        res.writeHead(403).end();
        return;
      }
      const session = sessions[Math.min(n, sessions.length - 1)];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          AccessKeyId: this.keys.accessKeyId,
          SecretAccessKey: this.keys.secretAccessKey,
          Token: session.token,
          Expiration: new Date(Date.now() + session.seconds * 1000).toISOString(),
        }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The full URI of a path answering `sessions` in turn. */
  serve(path: string, sessions: Session[]): string {
    this.sessions.set(path, sessions);
    return `${this.base}${path}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** What the default chain reads before the container endpoint, so none of it reaches the child. */
const AWS_ENV = /^AWS_/;

/**
 * Runs role-credentials.child.ts with no credentials in its environment, only the container endpoint's URI
 * (the chain is asked in a process of its own: see there).
 */
async function child<T>(mode: 'sdk' | 'presign', settings: S3Settings, uri: string): Promise<T> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !AWS_ENV.test(name)),
  );
  Object.assign(env, {
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: uri,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: 'pod-identity-token',
  });
  const script = join(__dirname, 'role-credentials.child.ts');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', script, mode, JSON.stringify(settings)],
    { cwd: REPO_ROOT, env, timeout: 50_000 },
  );
  return JSON.parse(stdout) as T;
}

const param = (url: URL, name: string) => url.searchParams.get(name);

describe('S3 with a role credentials (AWS SDK default chain, container endpoint) on S3Proxy', () => {
  let s3: TestS3;
  let endpoint: CredentialsEndpoint;
  /** The test S3 without static keys: the default chain provides the credentials. */
  let settings: S3Settings;

  beforeAll(async () => {
    // S3Proxy answers 501 to the x-amz-security-token header of SDK calls unless told to accept it.
    s3 = await startTestS3({ faults: false, ignoreUnknownHeaders: true });
    endpoint = new CredentialsEndpoint(s3.settings.credentials);
    await endpoint.start();
    settings = { ...s3.settings, credentials: undefined };
  });

  afterAll(async () => {
    await endpoint?.stop();
    await s3?.stop();
  });

  it('signs SDK calls with them', async () => {
    const uri = endpoint.serve('/sdk', [{ token: 'sdk-session', seconds: 3600 }]);
    const { body } = await child<{ body: string }>('sdk', settings, uri);
    expect(body).toBe('via the SDK');
    expect(endpoint.requests.get('/sdk')).toBeGreaterThan(0);
  });

  it('presigns with them: token signed in, expiry clamped to theirs, renewed before they expire', async () => {
    // Session A expires two minutes after it is fetched (due for renewal at once), B two hours after.
    const uri = endpoint.serve('/presign', [
      { token: 'session-A', seconds: 120 },
      { token: 'session-B', seconds: 7200 },
    ]);
    const signed = await child<{ put: string; get: string; urlsSigned: number }>(
      'presign',
      settings,
      uri,
    );
    const put = new URL(signed.put);
    const get = new URL(signed.get);

    // A signed the PUT (its renewal had not answered yet): asked for 3600 s, it lives no longer than A.
    expect(param(put, 'X-Amz-Security-Token')).toBe('session-A');
    expect(Number(param(put, 'X-Amz-Expires'))).toBeGreaterThan(0);
    expect(Number(param(put, 'X-Amz-Expires'))).toBeLessThanOrEqual(120);
    expect((await fetch(put, { method: 'PUT', body: 'via a presigned PUT' })).status).toBe(200);

    // S3Proxy verifies the token as part of the signature: changed or removed, the URL is refused.
    const tampered = new URL(put);
    tampered.searchParams.set('X-Amz-Security-Token', 'session-X');
    const withoutToken = new URL(put);
    withoutToken.searchParams.delete('X-Amz-Security-Token');
    for (const url of [tampered, withoutToken]) {
      const res = await fetch(url, { method: 'PUT', body: 'forged' });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('SignatureDoesNotMatch');
    }

    // B, fetched in the background, signed the GET, which gets the whole expiry asked for.
    expect(param(get, 'X-Amz-Security-Token')).toBe('session-B');
    expect(param(get, 'X-Amz-Expires')).toBe('3600');
    const res = await fetch(get);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('via a presigned PUT');

    // The first fetch and one renewal, however many URLs were signed meanwhile.
    expect(signed.urlsSigned).toBeGreaterThan(1000);
    expect(endpoint.requests.get('/presign')).toBe(2);
  });
});
