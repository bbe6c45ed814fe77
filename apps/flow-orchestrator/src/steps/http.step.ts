import { Logger } from '@nestjs/common';
import { FLOW_LIMITS, type StepDefinition } from '@lib/contracts';
import { Agent, type buildConnector, request } from 'undici';
import { type Resolve, systemResolve, targetConnector } from './http-target';
import { StepFailedError, StepHandler, StepOutput, StepRunContext } from './step';

/**
 * The reason of every network-level failure (a refused address, no such name, a refused or reset
 * connection, a TLS error): the same words whatever happened, so a run's reason never tells a tenant which
 * hosts and ports exist where the platform runs. Operators find the cause in the logs.
 */
export const UNREACHABLE = 'http step: target refused or unreachable';

export interface HttpStepOptions {
  /** Let steps call any address, loopback and private ones too (HTTP_STEP_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks: boolean;
  /** Resolves target names when a connection is opened: the system resolver unless a test injects one. */
  resolve?: Resolve;
}

/**
 * `http`: POSTs the run context (ids, the trigger payload, presigned GET URLs of the inputs, valid one hour)
 * to `Config.URL` and stores the response body as the step's artifact. `Idempotency-Key` is the run and step
 * ids, so a receiver can recognise the retry of a step whose worker died after sending. Connections go to
 * public addresses only (`targetConnector`); redirects are not followed; the response is at most
 * `FLOW_LIMITS.httpResponseBytes`, and the step's deadline (`ctx.signal`) bounds the whole exchange.
 */
export class HttpStep implements StepHandler {
  readonly type = 'http' as const;
  private readonly logger = new Logger(HttpStep.name);
  private readonly connect: buildConnector.connector;

  constructor(opts: HttpStepOptions) {
    this.connect = targetConnector({
      resolve: opts.resolve ?? systemResolve,
      allowPrivateNetworks: opts.allowPrivateNetworks,
    });
  }

  plan(step: StepDefinition): string[] {
    return [(step.Config?.Filename as string | undefined) ?? `${step.ID}-response.json`];
  }

  async run(ctx: StepRunContext): Promise<StepOutput[]> {
    const url = ctx.step.Config?.URL as string;
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
    const unreachable = (err: unknown) => {
      this.logger.warn(
        `run ${ctx.runId} step ${ctx.step.ID}: ${new URL(url).host}: ${String(err)}`,
      );
      return new Error(UNREACHABLE, { cause: err });
    };
    // A client of the step's own, closed when the step ends: no connection outlives it or serves another
    // run. Its idle timeouts are off: the deadline bounds headers and body together.
    const client = new Agent({ connect: this.connect, headersTimeout: 0, bodyTimeout: 0 });
    try {
      const res = await request(url, {
        dispatcher: client,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': `${ctx.runId}.${ctx.step.ID}`,
        },
        body: JSON.stringify(context),
        signal: ctx.signal,
      }).catch((err: unknown) => {
        throw unreachable(err);
      });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        throw new Error(`http step: the target answered ${res.statusCode}`);
      }
      async function* limited(): AsyncGenerator<Buffer> {
        let total = 0;
        try {
          for await (const chunk of res.body) {
            total += (chunk as Buffer).length;
            if (total > FLOW_LIMITS.httpResponseBytes) {
              throw new StepFailedError(
                `http step: the response is larger than ${FLOW_LIMITS.httpResponseBytes} bytes`,
              );
            }
            yield chunk as Buffer;
          }
        } catch (err) {
          throw err instanceof StepFailedError ? err : unreachable(err);
        }
      }
      const contentType = String(res.headers['content-type'] ?? 'application/octet-stream');
      const [filename] = this.plan(ctx.step);
      const stored = await ctx.bytes.write(ctx.outputKeys[0], limited(), contentType);
      return [{ filename, objectKey: ctx.outputKeys[0], stored }];
    } finally {
      await client.destroy();
    }
  }
}
