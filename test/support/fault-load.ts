import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@lib/s3';
import { s3ObjectExists, startTestPlatform, type TestOrg, type TestPlatform } from '@lib/testing';
import { Client } from 'pg';

/** What every fault suite starts with: the platform, one org, and clients on its database and bucket. */
export interface FaultPlatform {
  t: TestPlatform;
  org: TestOrg;
  /** Postgres, on the platform's database (the truth the suites check records against). */
  db: Client;
  s3: S3Client;
  /** Whether the platform's bucket holds bytes under `key`. */
  bytesExist(key: string): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startFaultPlatform(
  opts: Parameters<typeof startTestPlatform>[0] = {},
): Promise<FaultPlatform> {
  const t = await startTestPlatform(opts);
  const db = new Client({ connectionString: t.db.url });
  const s3 = createS3Client(t.s3.settings);
  try {
    await db.connect();
    return {
      t,
      org: await t.createOrg(),
      db,
      s3,
      bytesExist: (key) => s3ObjectExists(s3, t.s3.settings.bucket, key),
      stop: async () => {
        s3.destroy();
        await db.end();
        await t.stop();
      },
    };
  } catch (err) {
    s3.destroy();
    await db.end().catch(() => undefined);
    await t.stop();
    throw err;
  }
}

/** One answer of the gateway, whatever its status. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
}

async function answer<T>(res: Response): Promise<Answer<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: kept as text, the caller's assertion names it */
  }
  return { status: res.status, body: body as T };
}

/** Objects API calls (Bearer API key) of one org. */
export function objectsClient(t: TestPlatform, org: TestOrg) {
  const call = async <T>(method: string, path: string, body?: unknown) =>
    answer<T>(
      await fetch(`${t.gatewayUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${org.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return {
    call,
    create: (params: Record<string, unknown>) =>
      call<{ id: string; upload_url?: string; state: string }>('POST', '/v1/objects', params),
    complete: (id: string) =>
      call<{ state: string; size_bytes: number }>('POST', `/v1/objects/${id}/complete`),
    remove: (id: string) => call<{ state: string }>('POST', `/v1/objects/${id}/delete`),
    get: (id: string) =>
      call<{ state: string; size_bytes: number | null }>('GET', `/v1/objects/${id}`),
    put: async (url: string, bytes: string | Buffer) =>
      (await fetch(url, { method: 'PUT', body: bytes })).status,
  };
}

/**
 * A request a dying app may cut: its answer, or `undefined` when the connection failed. Allowed under a
 * fault; only a 2xx answer is a promise.
 */
export async function attempt<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch {
    return undefined;
  }
}

/**
 * Creates an object, PUTs `bytes` to its upload URL and completes it, each step `attempt`ed: the object's
 * id once `complete` answered 200, `undefined` when any step was refused or cut.
 */
export async function uploadObject(
  objects: ReturnType<typeof objectsClient>,
  params: Record<string, unknown>,
  bytes: string,
): Promise<string | undefined> {
  const created = await attempt(() => objects.create(params));
  if (created?.status !== 200) return undefined;
  if ((await attempt(() => objects.put(created.body.upload_url!, bytes))) !== 200) return undefined;
  const done = await attempt(() => objects.complete(created.body.id));
  return done?.status === 200 ? created.body.id : undefined;
}

/** Org storage calls (`api-key` org private key) of one org. */
export function orgStorageClient(t: TestPlatform, org: TestOrg) {
  const call = async <T>(
    method: string,
    path: string,
    opts: { json?: unknown; form?: FormData } = {},
  ) =>
    answer<T>(
      await fetch(`${t.gatewayUrl}/api/private/storage${path}`, {
        method,
        headers: {
          'api-key': org.orgPrivateKey,
          ...(opts.json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.form,
      }),
    );
  const q = (path: string) => `?path=${encodeURIComponent(path)}`;
  return {
    call,
    upload: (name: string, bytes: string | Buffer, folder?: string) => {
      const f = new FormData();
      if (folder !== undefined) f.append('path', folder);
      f.append('file', new Blob([bytes]), name);
      return call<{ success: boolean; data: { path: string; objectKey: string } }>(
        'POST',
        '/upload',
        { form: f },
      );
    },
    rename: (path: string, newName: string) =>
      call('POST', '/rename', { json: { path, new_name: newName } }),
    copy: (source: string, dest: string, newName?: string) =>
      call('POST', '/copy', { json: { source_path: source, dest_path: dest, new_name: newName } }),
    remove: (path: string) => call('DELETE', `/file${q(path)}`),
    meta: (path: string) => call<{ data: { sizeBytes: number } }>('GET', `/meta${q(path)}`),
    download: (path: string) =>
      fetch(`${t.gatewayUrl}/api/private/storage/download${q(path)}`, {
        headers: { 'api-key': org.orgPrivateKey },
      }),
  };
}

/** Random printable bytes of a given length. */
export const bytesOf = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

/** Runs `task(i)` for i = 0.. with `concurrency` workers until `more()` says stop; returns the count run. */
export async function runPool(
  concurrency: number,
  more: () => boolean,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (more()) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/** The value of metric `name` (its only series) on the `/metrics` of the management listener at `url`. */
export async function metricAt(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  if (!line) throw new Error(`${url} has no metric ${name}`);
  return Number(line[1]);
}
