import { FLOW_LIMITS, type StepDefinition } from '@lib/contracts';
import { request } from 'undici';
import { assertReachableTarget } from './http-target';
import { StepHandler, StepOutput, StepRunContext } from './step';

/**
 * `http`: POSTs the run context (ids, the trigger payload, presigned GET URLs of the inputs, valid one hour)
 * to `Config.URL` and stores the response body as the step's artifact. `Idempotency-Key` is the run and step
 * ids, so a receiver can recognise the retry of a step whose worker died after sending.
 */
export class HttpStep implements StepHandler {
  readonly type = 'http' as const;

  /** `allowPrivateNetworks`: let steps call loopback and private addresses (local runs, tests). */
  constructor(private readonly allowPrivateNetworks = false) {}

  plan(step: StepDefinition): string[] {
    return [(step.Config?.Filename as string | undefined) ?? `${step.ID}-response.json`];
  }

  async run(ctx: StepRunContext): Promise<StepOutput[]> {
    const url = ctx.step.Config?.URL as string;
    await assertReachableTarget(url, this.allowPrivateNetworks);
    const context = {
      runId: ctx.runId,
      workflowId: ctx.workflowId,
      workflowName: ctx.workflowName,
      stepId: ctx.step.ID,
      payload: ctx.payload ?? null,
      inputs: ctx.inputs.map((i) => ({
        edge: i.edge,
        filename: i.filename,
        sizeBytes: i.sizeBytes,
        contentType: i.contentType,
        url: ctx.bytes.getUrl(i.objectKey, FLOW_LIMITS.downloadUrlSeconds),
      })),
    };
    const res = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `${ctx.runId}.${ctx.step.ID}`,
      },
      body: JSON.stringify(context),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw new Error(`POST ${url} answered ${res.statusCode}`);
    }
    const contentType = String(res.headers['content-type'] ?? 'application/octet-stream');
    const [filename] = this.plan(ctx.step);
    const stored = await ctx.bytes.putStream(
      ctx.outputKeys[0],
      res.body,
      contentType,
      FLOW_LIMITS.httpResponseBytes,
    );
    return [{ filename, objectKey: ctx.outputKeys[0], stored }];
  }
}
