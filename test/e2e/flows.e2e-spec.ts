import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { QueueName } from '@lib/contracts';
import { queueConnection } from '@lib/queue';
import {
  readTopics,
  startTestPlatform,
  TEST_REDIS_URL,
  TestOrg,
  TestPlatform,
  TopicReader,
  waitFor,
} from '@lib/testing';
import { Client } from 'pg';

interface WaitingUrl {
  Artifact: { StoreName: string; ObjectName: string; EdgeName: string };
  PutURL: string;
  TTL: string;
}

interface FileView {
  Edge: string;
  Name: string;
  URI: string;
  ObjectKey: string;
  SizeBytes: number;
}

interface RunView {
  ID: string;
  Status: string;
  WaitingURLs?: WaitingUrl[];
  WorkflowID: string;
  WorkflowName: string;
  Reason?: string;
  Inputs: FileView[];
  Artifacts: FileView[];
}

interface ErrorBody {
  error: { code: string; message: string };
}

interface DownloadUrlView {
  download_url: string;
  download_expires_at: string;
  resource_uri: string;
  filename: string;
  tool_trace_id: string;
  workflow_id: string;
}

interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

const execFileAsync = promisify(execFile);

const WEBHOOK_SECRET = randomBytes(24).toString('base64url');

const uploadFlow = (edge = 'image-input') => ({
  Flow: {
    DataWells: [{ Edge: edge, Store: 's3-bucket', Source: 'upload', Key: '${RUN_ID}/input.jpg' }],
  },
});

/** A receiver for `http` steps: records requests; `hold` keeps the next answer back until released. */
class Receiver {
  readonly requests: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];
  private server!: Server;
  private held: ServerResponse[] = [];
  holdNext = false;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        this.requests.push({ headers: req.headers, body });
        if (this.holdNext) {
          this.holdNext = false;
          this.held.push(res);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ received: body.runId, inputs: (body.inputs as unknown[]).length }),
        );
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

// Flows (runs, waiting uploads), the org trigger and resource download URLs, end to end through the
// gateway on the real local infrastructure.
describe('Flows, runs, the trigger and resource URLs', () => {
  let t: TestPlatform;
  let org: TestOrg;
  let other: TestOrg;
  let reader: TopicReader;
  let db: Client;
  let receiver: Receiver;
  let hookUrl: string;
  let uploadWatch: Queue;

  async function api<T = ErrorBody>(
    method: string,
    path: string,
    opts: {
      auth?: Record<string, string>;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      ...(opts.auth ?? { authorization: `Bearer ${org.apiKey}` }),
      ...opts.headers,
    };
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${t.gatewayUrl}${path}`, { method, headers, body });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      headers: res.headers,
    };
  }

  const start = async (name: string, definition?: unknown, auth?: Record<string, string>) => {
    const res = await api<RunView>('POST', `/api/v1/flow/${name}`, { body: definition, auth });
    expect(res.status).toBe(200);
    return res.body;
  };

  const status = async (runId: string) => {
    const res = await api<RunView>('GET', `/api/v1/flow/status/${runId}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  // Generous deadlines: a loaded 2-core CI machine runs the five apps, Postgres, Redis, Kafka and S3.
  const until = (runId: string, wanted: string) =>
    waitFor(
      `run ${runId} ${wanted}`,
      async () => {
        const run = await status(runId);
        if (['COMPLETE', 'ERROR', 'EXPIRED'].includes(run.Status) && run.Status !== wanted) {
          throw new Error(`run ended ${run.Status}: ${run.Reason}`);
        }
        return run.Status === wanted ? run : undefined;
      },
      { timeoutMs: 60_000 },
    );

  const put = async (url: string, bytes: Buffer | string, contentType = 'image/jpeg') => {
    const res = await fetch(url, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': contentType },
    });
    expect(res.status).toBe(200);
  };

  const events = (topic: string, runId: string) =>
    reader.messages
      .filter(
        (m) =>
          m.topic === topic &&
          (JSON.parse(m.value) as { data: { runId?: string } }).data.runId === runId,
      )
      .map((m) => (JSON.parse(m.value) as { data: Record<string, unknown> }).data);

  const downloadUrl = (resource_uri: unknown, auth?: Record<string, string>) =>
    api<DownloadUrlView & ErrorBody>('POST', '/api/v1/resources/download-url', {
      body: { resource_uri },
      auth,
    });

  beforeAll(async () => {
    t = await startTestPlatform({
      env: {
        S3_NOTIFICATION_SECRET: WEBHOOK_SECRET,
        UPLOAD_WATCH_MAX_DELAY_MS: '300',
        RUN_LOCK_DURATION_MS: '2000',
        RUN_RECONCILE_INTERVAL_MS: '1000',
        HTTP_STEP_ALLOW_PRIVATE_NETWORKS: 'true', // the receiver listens on loopback
      },
    });
    [org, other] = await Promise.all([t.createOrg(), t.createOrg()]);
    reader = await readTopics(t.kafka.brokers, [
      'run.created',
      'run.updated',
      'storage_file.updated',
    ]);
    db = new Client({ connectionString: t.db.url });
    await db.connect();
    receiver = new Receiver();
    hookUrl = await receiver.start();
    uploadWatch = new Queue(QueueName.UploadWatch, {
      connection: queueConnection(TEST_REDIS_URL),
      prefix: t.redisPrefix,
    });
  });

  afterAll(async () => {
    await uploadWatch?.close();
    await receiver?.stop();
    await db?.end();
    await reader?.stop();
    await t?.stop();
  });

  describe('flows: the complete upload workflow', () => {
    it('should answer WAITING with a PutURL, notice the upload and complete, publishing every change', async () => {
      const run = await start('test', uploadFlow());
      expect(run).toMatchObject({ Status: 'WAITING', WorkflowName: 'test' });
      expect(run.WaitingURLs).toHaveLength(1);
      const [waiting] = run.WaitingURLs!;
      expect(waiting.Artifact).toEqual({
        StoreName: 's3-bucket',
        ObjectName: `${run.ID}/input.jpg`,
        EdgeName: 'image-input',
      });
      expect(new Date(waiting.TTL).getTime()).toBeGreaterThan(Date.now());
      expect(waiting.TTL).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      const input = randomBytes(3000);
      await put(waiting.PutURL, input);
      const done = await until(run.ID, 'COMPLETE');
      expect(done.WaitingURLs).toBeUndefined();
      expect(done.Inputs).toEqual([
        {
          Edge: 'image-input',
          Name: 'input.jpg',
          URI: `workflow://${run.WorkflowID}/uploads/input.jpg`,
          ObjectKey: expect.stringMatching(
            new RegExp(
              `^${org.orgKey}/workflows/${run.WorkflowID}/runs/${run.ID}/inputs/.{32}/input\\.jpg$`,
            ),
          ),
          SizeBytes: 3000,
        },
      ]);
      // The input's key is a public download capability, like every stored file's.
      const redirect = await fetch(
        `${t.gatewayUrl}/api/v1/objects/download?objectKey=${encodeURIComponent(done.Inputs[0].ObjectKey)}`,
        { redirect: 'manual' },
      );
      expect(redirect.status).toBe(302);
      const signed = await fetch(redirect.headers.get('location')!);
      expect(Buffer.from(await signed.arrayBuffer()).equals(input)).toBe(true);

      const [created] = await reader.waitFor((m) => m.topic === 'run.created' && m.key === run.ID);
      expect(JSON.parse(created.value).data).toMatchObject({
        orgId: org.orgId,
        orgKey: org.orgKey,
        runId: run.ID,
        workflowId: run.WorkflowID,
        workflowName: 'test',
        status: 'QUEUED',
      });
      await reader.waitFor((m) => m.topic === 'run.updated' && m.key === run.ID, 4);
      expect(
        events('run.updated', run.ID).map((e) => [e.previousStatus, e.status, e.version]),
      ).toEqual([
        ['QUEUED', 'RUNNING', 2],
        ['RUNNING', 'WAITING', 3],
        ['WAITING', 'RUNNING', 4],
        ['RUNNING', 'COMPLETE', 5],
      ]);
      const [file] = await reader.waitFor(
        (m) => m.topic === 'storage_file.updated' && m.value.includes(run.ID),
      );
      expect(JSON.parse(file.value).data).toMatchObject({
        orgId: org.orgId,
        workflowId: run.WorkflowID,
        runId: run.ID,
        edge: 'image-input',
        direction: 'input',
        sizeBytes: 3000,
        previousSizeBytes: 0,
        change: 'created',
        version: 1,
      });
    });

    it('should run the documented complete upload workflow script as written, with an auth header added', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'flow-script-'));
      try {
        await writeFile(join(dir, 'flow-definition.json'), JSON.stringify(uploadFlow()));
        await writeFile(join(dir, 'input-image.jpg'), randomBytes(2048));
        // The documented script; changes: the auth header, the gateway's address, a bounded poll loop.
        const script = `set -eu
RUN_RESPONSE=$(curl -s -X POST "$BASE/api/v1/flow/test" -H "$AUTH" \\
  -H "Content-Type: application/json" \\
  -d @flow-definition.json)
RUN_ID=$(echo $RUN_RESPONSE | jq -r '.ID')
STATUS=$(echo $RUN_RESPONSE | jq -r '.Status')
if [ "$STATUS" = "WAITING" ]; then
  UPLOAD_URL=$(echo $RUN_RESPONSE | jq -r '.WaitingURLs[0].PutURL')
  curl -s -X PUT "$UPLOAD_URL" \\
    -H "Content-Type: image/jpeg" \\
    --data-binary @input-image.jpg
  echo "File uploaded successfully"
fi
for i in $(seq 1 120); do
  STATUS=$(curl -s -H "$AUTH" $BASE/api/v1/flow/status/$RUN_ID | jq -r '.Status')
  if [ "$STATUS" = "COMPLETE" ]; then
    echo "Flow completed successfully"
    break
  elif [ "$STATUS" = "ERROR" ]; then
    echo "Flow failed"
    break
  fi
  sleep 0.5
done
`;
        const { stdout } = await execFileAsync('bash', ['-c', script], {
          cwd: dir,
          env: { ...process.env, BASE: t.gatewayUrl, AUTH: `Authorization: Bearer ${org.apiKey}` },
          timeout: 90_000,
        });
        expect(stdout.trim().split('\n')).toEqual([
          'File uploaded successfully',
          'Flow completed successfully',
        ]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('should run the stored definition when the body is empty', async () => {
      await start('stored', uploadFlow('in'));
      const res = await fetch(`${t.gatewayUrl}/api/v1/flow/stored`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      const run = (await res.json()) as RunView;
      expect(run.Status).toBe('WAITING');
      expect(run.WaitingURLs![0].Artifact.EdgeName).toBe('in');
    });

    it('should answer 404 to an empty body when no definition is stored', async () => {
      const res = await api('POST', '/api/v1/flow/never-defined');
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('never-defined');
    });

    it('should resume a run through the S3 notification webhook alone, and refuse a wrong secret', async () => {
      const hook = `${t.platform.urls['flow-orchestrator']}/hooks/s3-events`;
      const notify = (key: string, secret = WEBHOOK_SECRET) =>
        fetch(hook, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key } } }],
          }),
        });
      expect((await notify('x', 'wrong-secret-wrong-secret')).status).toBe(401);
      expect(await (await notify('no/such/key')).json()).toEqual({ filled: 0 });

      await uploadWatch.pause(); // the watcher stops: only the webhook can notice the upload
      try {
        const run = await start('hooked', uploadFlow());
        const keys: string[] = [];
        const off = t.s3.onObjectWritten((_bucket, key) => keys.push(key));
        await put(run.WaitingURLs![0].PutURL, 'bytes');
        const key = await waitFor('the S3 event', () => keys.find((k) => k.includes(run.ID)));
        off();
        expect(await (await notify(key)).json()).toEqual({ filled: 1 });
        await until(run.ID, 'COMPLETE');
      } finally {
        await uploadWatch.resume();
      }
    });

    it('should expire a run whose PutURL passed its TTL without an upload', async () => {
      const run = await start('expiring', uploadFlow());
      await db.query(
        `UPDATE flow.run_edges SET expires_at = now() - interval '1 second' WHERE run_id = $1`,
        [run.ID],
      );
      const expired = await until(run.ID, 'EXPIRED');
      expect(expired.Reason).toContain("no upload to edge 'image-input'");
      await reader.waitFor(
        (m) => m.topic === 'run.updated' && m.key === run.ID && m.value.includes('"EXPIRED"'),
      );
    });
  });

  describe('steps and artifacts', () => {
    it('should copy, checksum and archive (tgz) the inputs, recording output artifacts', async () => {
      const run = await start('pipeline', {
        Flow: {
          DataWells: [
            { Edge: 'a', Store: 'default', Source: 'upload', Key: 'a.txt' },
            { Edge: 'b', Store: 'default', Source: 'upload', Key: '${WORKFLOW_NAME}-${EDGE}.bin' },
          ],
          Steps: [
            { ID: 'copy', Type: 'copy', Inputs: ['a'], Output: 'copied', Next: 'sum' },
            { ID: 'sum', Type: 'checksum', Inputs: ['copied', 'b'], Next: 'pack' },
            { ID: 'pack', Type: 'archive', Inputs: ['a', 'b'], Config: { Format: 'tgz' } },
          ],
          StartingStepID: 'copy',
        },
      });
      expect(run.WaitingURLs!.map((w) => w.Artifact.ObjectName)).toEqual([
        'a.txt',
        'pipeline-b.bin',
      ]);
      const a = Buffer.from('hello, a');
      const b = randomBytes(1500);
      await put(run.WaitingURLs![0].PutURL, a, 'text/plain');
      expect((await status(run.ID)).Status).toBe('WAITING'); // b still missing
      await put(run.WaitingURLs![1].PutURL, b, 'application/octet-stream');
      const done = await until(run.ID, 'COMPLETE');
      expect(done.Artifacts.map((f) => [f.Edge, f.Name])).toEqual([
        ['copied', 'a.txt'],
        ['sum', 'sum.sha256'],
        ['pack', 'pack.tgz'],
      ]);

      const fetchArtifact = async (name: string) => {
        const res = await downloadUrl(`workflow://${run.WorkflowID}/artifacts/${name}`);
        expect(res.status).toBe(200);
        return Buffer.from(await (await fetch(res.body.download_url)).arrayBuffer());
      };
      expect(await fetchArtifact('a.txt')).toEqual(a);
      const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');
      expect((await fetchArtifact('sum.sha256')).toString()).toBe(
        `${sha(a)}  copied/a.txt\n${sha(b)}  b/pipeline-b.bin\n`,
      );
      const tar = gunzipSync(await fetchArtifact('pack.tgz'));
      const entry = (offset: number) => ({
        name: tar
          .subarray(offset, offset + 100)
          .toString()
          .replace(/\0.*$/s, ''),
        prefix: tar
          .subarray(offset + 345, offset + 500)
          .toString()
          .replace(/\0.*$/s, ''),
        size: parseInt(tar.subarray(offset + 124, offset + 136).toString(), 8),
      });
      expect(entry(0)).toEqual({ name: 'a.txt', prefix: 'a', size: a.length });
      expect(tar.subarray(512, 512 + a.length)).toEqual(a);
      const second = 512 + 512;
      expect(entry(second)).toEqual({ name: 'pipeline-b.bin', prefix: 'b', size: b.length });
      expect(tar.subarray(second + 512, second + 512 + b.length)).toEqual(b);
      expect(tar.length).toBe(second + 512 + 1536 + 1024);

      const outputs = await reader.waitFor(
        (m) =>
          m.topic === 'storage_file.updated' &&
          m.value.includes(run.ID) &&
          (JSON.parse(m.value) as { data: { direction: string } }).data.direction === 'output',
        3,
      );
      expect(
        outputs.map((m) => (JSON.parse(m.value) as { data: { edge: string } }).data.edge).sort(),
      ).toEqual(['copied', 'pack', 'sum']);
    });

    it('should POST the run context with presigned input URLs and store the response (http step)', async () => {
      const run = await start('caller', {
        Flow: {
          DataWells: [{ Edge: 'doc', Store: 'default', Source: 'upload', Key: 'doc.txt' }],
          Steps: [{ ID: 'notify', Type: 'http', Inputs: ['doc'], Config: { URL: hookUrl } }],
          StartingStepID: 'notify',
        },
      });
      await put(run.WaitingURLs![0].PutURL, 'document', 'text/plain');
      const done = await until(run.ID, 'COMPLETE');
      const request = receiver.requests.find((r) => r.body.runId === run.ID)!;
      expect(request.headers['idempotency-key']).toBe(`${run.ID}.notify`);
      expect(request.body).toMatchObject({
        workflowName: 'caller',
        stepId: 'notify',
        payload: null,
      });
      const [input] = request.body.inputs as { url: string; filename: string }[];
      expect(input.filename).toBe('doc.txt');
      expect(await (await fetch(input.url)).text()).toBe('document');
      expect(done.Artifacts.map((f) => f.Name)).toEqual(['notify-response.json']);
      const res = await downloadUrl(`workflow://${run.WorkflowID}/artifacts/notify-response.json`);
      expect(await (await fetch(res.body.download_url)).json()).toEqual({
        received: run.ID,
        inputs: 1,
      });
    });

    it('should retry a step whose worker was killed mid-step, applying its effect once', async () => {
      const flow = {
        Flow: {
          Steps: [{ ID: 'slow', Type: 'http', Config: { URL: hookUrl, Filename: 'out.json' } }],
          StartingStepID: 'slow',
        },
      };
      receiver.holdNext = true;
      const run = await start('killed', flow);
      await waitFor('the step to start', () =>
        receiver.requests.some((r) => r.body.runId === run.ID),
      );
      await t.platform.kill('flow-orchestrator', 'SIGKILL');
      await t.platform.restart('flow-orchestrator');
      const done = await until(run.ID, 'COMPLETE');
      const attempts = receiver.requests.filter((r) => r.body.runId === run.ID);
      expect(attempts).toHaveLength(2);
      expect(new Set(attempts.map((r) => r.headers['idempotency-key']))).toEqual(
        new Set([`${run.ID}.slow`]),
      );
      expect(done.Artifacts).toHaveLength(1);
      const { rows } = await db.query(
        `SELECT attempts, status FROM flow.run_steps WHERE run_id = $1`,
        [run.ID],
      );
      expect(rows).toEqual([{ attempts: 2, status: 'COMPLETE' }]);
      // Recorded once, where both services keep run files (one record, one storage_file.updated).
      const recorded = await db.query(
        `SELECT object_key FROM object_metadata.run_files WHERE run_id = $1`,
        [run.ID],
      );
      expect(recorded.rows).toHaveLength(1);
      const [file] = await reader.waitFor(
        (m) => m.topic === 'storage_file.updated' && m.value.includes(run.ID),
      );
      expect(file.value).toContain(recorded.rows[0].object_key as string);
    });
  });

  describe('flows: the two upload endpoints', () => {
    const multipart = (fields: Record<string, string>, file?: { name: string; bytes: string }) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      if (file) form.append('file', new Blob([file.bytes], { type: 'text/plain' }), file.name);
      return form;
    };
    const send = async <T = ErrorBody>(path: string, form: FormData, key = org.apiKey) => {
      const res = await fetch(`${t.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    it('should store a direct upload and answer its object key and workflow:// URI', async () => {
      const run = await start('direct', uploadFlow());
      const res = await send<{ objectKey: string; uri: string; sizeBytes: number }>(
        '/api/v1/upload',
        multipart({ workflow_id: run.WorkflowID }, { name: 'notes.txt', bytes: 'direct bytes' }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        uri: `workflow://${run.WorkflowID}/uploads/notes.txt`,
        sizeBytes: 12,
        objectKey: expect.stringMatching(
          new RegExp(
            `^${org.orgKey}/workflows/${run.WorkflowID}/runs/direct/inputs/[A-Za-z0-9_-]{32}/notes.txt$`,
          ),
        ),
      });
      const url = await downloadUrl(res.body.uri);
      expect(await (await fetch(url.body.download_url)).text()).toBe('direct bytes');
      await reader.waitFor(
        (m) => m.topic === 'storage_file.updated' && m.value.includes(res.body.objectKey),
      );

      const foreign = await send(
        '/api/v1/upload',
        multipart({ workflow_id: run.WorkflowID }, { name: 'x.txt', bytes: 'x' }),
        other.apiKey,
      );
      expect(foreign.status).toBe(404);
      const noWorkflow = await send('/api/v1/upload', multipart({}, { name: 'x.txt', bytes: 'x' }));
      expect(noWorkflow.status).toBe(400);
      expect(noWorkflow.body.error.message).toContain('workflow_id');
    });

    it('should fill a waiting edge and resume the run; 409 once filled, 404 for another org', async () => {
      const run = await start('edge-upload', uploadFlow('photo'));
      const path = `/api/v1/upload/${run.ID}/photo`;
      const foreign = await send(path, multipart({}, { name: 'p.jpg', bytes: 'p' }), other.apiKey);
      expect(foreign.status).toBe(404);
      const unknownEdge = await send(
        `/api/v1/upload/${run.ID}/nope`,
        multipart({}, { name: 'p.jpg', bytes: 'p' }),
      );
      expect(unknownEdge.status).toBe(404);
      const res = await send<RunView>(path, multipart({}, { name: 'p.jpg', bytes: 'picture' }));
      expect(res.status).toBe(200);
      expect(res.body.ID).toBe(run.ID);
      const done = await until(run.ID, 'COMPLETE');
      expect(done.Inputs.map((f) => [f.Edge, f.Name, f.SizeBytes])).toEqual([
        ['photo', 'input.jpg', 7],
      ]);
      const again = await send(path, multipart({}, { name: 'p.jpg', bytes: 'again' }));
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain('COMPLETE');
    });
  });

  describe('failures', () => {
    it('should end a run in ERROR with the reason when a step cannot succeed', async () => {
      const long = `${'n'.repeat(120)}.txt`;
      const run = await start('failing', {
        Flow: {
          DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: long }],
          Steps: [{ ID: 'pack', Type: 'archive', Inputs: ['in'] }],
          StartingStepID: 'pack',
        },
      });
      await put(run.WaitingURLs![0].PutURL, 'x');
      const failed = await until(run.ID, 'ERROR');
      expect(failed.Reason).toContain('too long for a tar entry');
      await reader.waitFor(
        (m) =>
          m.topic === 'run.updated' &&
          m.key === run.ID &&
          m.value.includes('too long for a tar entry'),
      );
    });
  });

  describe('bad definitions and input', () => {
    const cases: [string, unknown, string][] = [
      [
        'an unknown step type',
        { Flow: { Steps: [{ ID: 's', Type: 'teleport', Inputs: [] }], StartingStepID: 's' } },
        "unknown step type 'teleport'",
      ],
      [
        'a cycle',
        {
          Flow: {
            DataWells: [{ Edge: 'e', Store: 'd', Source: 'upload', Key: 'k' }],
            Steps: [
              { ID: 'x', Type: 'copy', Inputs: ['e'], Next: 'y' },
              { ID: 'y', Type: 'copy', Inputs: ['e'], Next: 'x' },
            ],
            StartingStepID: 'x',
          },
        },
        "cycle through step 'x'",
      ],
      [
        'a missing starting step',
        { Flow: { Steps: [{ ID: 'h', Type: 'http', Config: { URL: 'http://x' } }] } },
        'StartingStepID is missing',
      ],
      [
        'an unknown starting step',
        {
          Flow: {
            Steps: [{ ID: 'h', Type: 'http', Config: { URL: 'http://x' } }],
            StartingStepID: 'z',
          },
        },
        "unknown step 'z'",
      ],
      [
        'an unknown edge',
        { Flow: { Steps: [{ ID: 'c', Type: 'copy', Inputs: ['nowhere'] }], StartingStepID: 'c' } },
        "unknown edge 'nowhere'",
      ],
      [
        'a webhook source',
        { Flow: { DataWells: [{ Edge: 'e', Store: 'd', Source: 'webhook', Key: 'k' }] } },
        "Source 'webhook' is not supported yet",
      ],
      [
        'a static source',
        { Flow: { DataWells: [{ Edge: 'e', Store: 'd', Source: 'static', Key: 'k' }] } },
        "Source 'static' is not supported yet",
      ],
      [
        'a template with an unknown variable',
        { Flow: { DataWells: [{ Edge: 'e', Store: 'd', Source: 'upload', Key: '${NOPE}/x' }] } },
        "unknown template variable '${NOPE}'",
      ],
      ['an unknown field', { Flow: { DataWells: [], Extra: 1 } }, "unknown field 'Extra'"],
      [
        'an edge listed again and again in one step’s inputs',
        {
          Flow: {
            DataWells: [{ Edge: 'e', Store: 'd', Source: 'upload', Key: 'k' }],
            Steps: [{ ID: 'pack', Type: 'archive', Inputs: Array<string>(10_000).fill('e') }],
            StartingStepID: 'pack',
          },
        },
        "Flow.Steps[0].Inputs: edge 'e' is listed more than once",
      ],
    ];
    it.each(cases)(
      'should answer 400 naming the problem for %s',
      async (_, definition, message) => {
        const res = await api('POST', '/api/v1/flow/bad', { body: definition });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('INVALID_FLOW_DEFINITION');
        expect(res.body.error.message).toContain(message);
      },
    );

    it('should answer 400 to a malformed run id and 404 to another org’s run', async () => {
      const bad = await api('GET', '/api/v1/flow/status/not-a-uuid');
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain('runId must be a UUID');
      const run = await start('mine', uploadFlow());
      const foreign = await api('GET', `/api/v1/flow/status/${run.ID}`, {
        auth: { authorization: `Bearer ${other.apiKey}` },
      });
      expect(foreign.status).toBe(404);
      expect((await api('GET', `/api/v1/flow/status/${randomUUID()}`)).status).toBe(404);
    });

    it('should answer 413 to a body over the JSON limit and 401 without credentials', async () => {
      const big = await api('POST', '/api/v1/flow/big', {
        raw: JSON.stringify({ Flow: { DataWells: [], pad: 'x'.repeat(1024 * 1024) } }),
        headers: { 'content-type': 'application/json' },
      });
      expect(big.status).toBe(413);
      expect((await api('POST', '/api/v1/flow/x', { auth: {}, body: uploadFlow() })).status).toBe(
        401,
      );
    });
  });

  describe('org storage: the trigger', () => {
    const trigger = (workflowId: string, payload: unknown, key = org.orgPrivateKey) =>
      api<{
        success: boolean;
        data: { runId: string; result: { jobId: string; queue: string; state: string } };
      }>('POST', `/api/private/trigger/${workflowId}`, { auth: { 'api-key': key }, body: payload });

    it('should start a run at the starting step through the run queue', async () => {
      const defined = await start('triggered', {
        Flow: {
          Steps: [{ ID: 'go', Type: 'http', Config: { URL: hookUrl } }],
          StartingStepID: 'go',
        },
      });
      await until(defined.ID, 'COMPLETE');
      const res = await trigger(defined.WorkflowID, { order: 42, items: ['a'] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        data: {
          runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          result: {
            jobId: `run.execute.${res.body.data.runId}`,
            queue: 'runs',
            state: expect.any(String),
          },
        },
      });
      await until(res.body.data.runId, 'COMPLETE');
      const sent = receiver.requests.find((r) => r.body.runId === res.body.data.runId)!;
      expect(sent.body.payload).toEqual({ order: 42, items: ['a'] });
      await reader.waitFor(
        (m) =>
          m.topic === 'run.created' &&
          m.key === res.body.data.runId &&
          m.value.includes('"triggered"'),
      );
    });

    it('should answer 404 for a workflow of another org, or without a flow or a starting step', async () => {
      const noStart = await start('no-start', uploadFlow());
      const foreign = await trigger(noStart.WorkflowID, {}, other.orgPrivateKey);
      expect(foreign.status).toBe(404);
      expect(foreign.body).toEqual({
        success: false,
        error: { code: 'NOT_FOUND', message: expect.any(String) },
      });
      const missingStart = await trigger(noStart.WorkflowID, {});
      expect(missingStart.status).toBe(404);
      expect(JSON.stringify(missingStart.body)).toContain('starting_step_id');

      const bare = randomUUID();
      await db.query(
        `INSERT INTO flow.workflows (id, org_id, org_key, name, flow) VALUES ($1, $2, $3, 'bare', NULL)`,
        [bare, org.orgId, org.orgKey],
      );
      const noFlow = await trigger(bare, {});
      expect(noFlow.status).toBe(404);
      expect(JSON.stringify(noFlow.body)).toContain('has no flow');
      expect((await trigger(randomUUID(), {})).status).toBe(404);
      const bearer = await api('POST', `/api/private/trigger/${bare}`, {
        auth: { authorization: `Bearer ${org.apiKey}` },
        body: {},
      });
      expect(bearer.status).toBe(401);
    });
  });

  describe('resource download URLs', () => {
    let workflowId: string;
    const uri = (type: string, name: string, id = workflowId) => `workflow://${id}/${type}/${name}`;

    beforeAll(async () => {
      const run = await start('resources', {
        Flow: {
          DataWells: [{ Edge: 'csv', Store: 'default', Source: 'upload', Key: 'customers.csv' }],
          Steps: [{ ID: 'dup', Type: 'copy', Inputs: ['csv'], Output: 'out' }],
          StartingStepID: 'dup',
        },
      });
      workflowId = run.WorkflowID;
      await put(run.WaitingURLs![0].PutURL, 'id,name\n1,Ada\n', 'text/csv');
      await until(run.ID, 'COMPLETE');
    });

    it('should answer the six fields with a URL valid one hour, for uploads and artifacts', async () => {
      for (const type of ['uploads', 'artifacts']) {
        const before = Date.now();
        const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
        const res = await api<DownloadUrlView>('POST', '/api/v1/resources/download-url', {
          body: { resource_uri: uri(type, 'customers.csv') },
          headers: { traceparent },
        });
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual([
          'download_expires_at',
          'download_url',
          'filename',
          'resource_uri',
          'tool_trace_id',
          'workflow_id',
        ]);
        expect(res.body).toMatchObject({
          resource_uri: uri(type, 'customers.csv'),
          filename: 'customers.csv',
          workflow_id: workflowId,
          tool_trace_id: traceparent.split('-')[1],
        });
        const expires = new Date(res.body.download_expires_at).getTime();
        expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 2000);
        expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
        expect(new URL(res.body.download_url).searchParams.get('X-Amz-Expires')).toBe('3600');
        expect(await (await fetch(res.body.download_url)).text()).toBe('id,name\n1,Ada\n');
      }
    });

    it('should fall back to the recorded run state for an artifact object-metadata does not know', async () => {
      await db.query(
        `DELETE FROM object_metadata.run_files WHERE workflow_id = $1 AND direction = 'output'`,
        [workflowId],
      );
      const res = await downloadUrl(uri('artifacts', 'customers.csv'));
      expect(res.status).toBe(200);
      expect(await (await fetch(res.body.download_url)).text()).toBe('id,name\n1,Ada\n');
    });

    it('should produce every error message of the resource URL contract verbatim', async () => {
      const notFound = (u: string) =>
        `No resource at ${u}. The artifact does not exist or has expired. Retrying with the same URI will not succeed.`;
      const expectError = async (
        u: string,
        status: number,
        message: string,
        auth?: Record<string, string>,
      ) => {
        const res = await downloadUrl(u, auth);
        expect({ status: res.status, message: res.body.error.message }).toEqual({
          status,
          message,
        });
      };
      await expectError(
        uri('uploads', 'missing.csv'),
        404,
        notFound(uri('uploads', 'missing.csv')),
      );
      await expectError(
        uri('artifacts', 'missing.csv'),
        404,
        notFound(uri('artifacts', 'missing.csv')),
      );
      // Another org's workflow is not found, never "denied".
      await expectError(
        uri('uploads', 'customers.csv'),
        404,
        notFound(uri('uploads', 'customers.csv')),
        {
          authorization: `Bearer ${other.apiKey}`,
        },
      );
      await expectError(
        's3://bucket/uploads/x.csv',
        400,
        "Invalid URI protocol. Expected 'workflow://', got: s3://",
      );
      await expectError(
        `workflow://${workflowId}/uploads`,
        400,
        `Invalid URI path. Expected format: workflow://{workflowId}/{type}/{filename}, got: workflow://${workflowId}/uploads`,
      );
      await expectError(
        uri('outputs', 'x.csv'),
        400,
        "Invalid resource type 'outputs'. Expected 'uploads' or 'artifacts'",
      );
      const scoped = await t.admin<{ token: string }>('POST', '/admin/tokens', {
        orgId: org.orgId,
        userId: org.adminUserId,
        workflowId: randomUUID(),
      });
      await expectError(
        uri('uploads', 'customers.csv'),
        403,
        `Access denied to ${uri('uploads', 'customers.csv')}. Check that the workflow_id matches the requesting session.`,
        { authorization: `Bearer ${scoped.token}` },
      );
      const ownScope = await t.admin<{ token: string }>('POST', '/admin/tokens', {
        orgId: org.orgId,
        userId: org.adminUserId,
        workflowId,
      });
      expect(
        (
          await downloadUrl(uri('uploads', 'customers.csv'), {
            authorization: `Bearer ${ownScope.token}`,
          })
        ).status,
      ).toBe(200);

      // The bytes gone from S3 while the record stays: not found.
      const { rows } = await db.query<{ object_key: string }>(
        `SELECT object_key FROM flow.run_files WHERE workflow_id = $1 AND direction = 'input'`,
        [workflowId],
      );
      const fault = t.s3.injectFault({ operation: 'HEAD', status: 503 });
      try {
        await expectError(
          uri('uploads', 'customers.csv'),
          503,
          'Failed to generate download URL. Please try again.',
        );
      } finally {
        fault.remove();
      }
      expect(rows).toHaveLength(1);
      const missing = await api('POST', '/api/v1/resources/download-url', { body: {} });
      expect(missing.status).toBe(400);
    });

    it('should answer the transient message while the file records cannot be read', async () => {
      await t.platform.kill('object-metadata', 'SIGKILL');
      try {
        const res = await downloadUrl(uri('uploads', 'customers.csv'));
        expect({ status: res.status, message: res.body.error.message }).toEqual({
          status: 503,
          message: 'Failed to generate download URL. Please try again.',
        });
      } finally {
        await t.platform.restart('object-metadata');
      }
      expect((await downloadUrl(uri('uploads', 'customers.csv'))).status).toBe(200);
    });
  });
});
