import { Body, HttpCode, Logger, Post } from '@nestjs/common';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { compileClassCheck, type ClassCheck } from '@lib/contracts';
import { toErrorResponse, ValidationFailedException, type ErrorBody } from '@lib/errors';

// Batched internal calls: the gateway sends the hot single-object operations of concurrent requests as one
// `POST /internal/batch` (ServiceClient.batched) and the service answers each call as its own route would,
// status and body, in order. An HTTP exchange costs each side far more CPU than the row it carries (a
// socket write and read, parsing, the framework's pipeline, a server span), so under load N requests share
// one; at rest a call goes alone at the next event-loop turn.

export const INTERNAL_BATCH_PATH = '/internal/batch';
export const MAX_BATCH_CALLS = 256;
/**
 * A batch request's body stays under this (a service's default body limit is 1 MiB): the calls of one turn
 * that weigh more go as several requests, a call bigger than it alone.
 */
export const MAX_BATCH_BODY_BYTES = 512 * 1024;

/** One call: the op's name, its arguments, and the caller's W3C trace context. */
export interface BatchCall {
  op: string;
  args: object;
  traceparent?: string;
  tracestate?: string;
}

/** The answer to one call: the status and JSON body its own route would answer (`{error}` from 400 on). */
export interface BatchAnswer {
  status: number;
  body: unknown;
}

export interface BatchOp {
  check: ClassCheck;
  run: (args: never) => Promise<unknown>;
}

/** An op of a service's batch endpoint: its arguments' class (checked, closed) and what answers it. */
export function batchOp<A extends object>(
  args: new () => A,
  run: (args: A) => Promise<unknown>,
): BatchOp {
  return { check: compileClassCheck(args, { closed: true }), run };
}

const tracer = trace.getTracer('@lib/internal-http');
const logger = new Logger('BatchedCalls');

/**
 * The gauge of every service's batch endpoint (`metrics.gauge(BATCH_CALLS_IN_FLIGHT)`), passed to
 * `answerBatch`: the calls being answered, as one HTTP request in flight may hold many (a graceful stop waits
 * for them; the SIGTERM fault suite reads it).
 */
export const BATCH_CALLS_IN_FLIGHT = {
  name: 'internal_batch_calls_in_flight',
  help: `Calls of batched internal requests (POST ${INTERNAL_BATCH_PATH}) received and not yet answered.`,
};

/** Counts the calls being answered (a prom-client Gauge). */
export interface CallsInFlight {
  inc(calls: number): void;
  dec(calls: number): void;
}

/**
 * Answers a batch request's body with `ops`: every call runs concurrently, in its caller's trace (a SERVER
 * span named after the op, child of the caller's span), and fails alone. A body that is not a batch → 400.
 */
export async function answerBatch(
  body: unknown,
  ops: Readonly<Record<string, BatchOp>>,
  inFlight?: CallsInFlight,
): Promise<{ answers: BatchAnswer[] }> {
  const calls = (body as { calls?: unknown } | null)?.calls;
  if (!Array.isArray(calls) || calls.length === 0 || calls.length > MAX_BATCH_CALLS) {
    throw new ValidationFailedException(`calls must be an array of 1 to ${MAX_BATCH_CALLS} calls`);
  }
  inFlight?.inc(calls.length);
  try {
    return { answers: await Promise.all(calls.map((call: unknown) => answerCall(call, ops))) };
  } finally {
    inFlight?.dec(calls.length);
  }
}

/**
 * A service's `POST /internal/batch` endpoint: extend it in a `@Controller()` class whose constructor passes
 * the ops it answers and `metrics.gauge(BATCH_CALLS_IN_FLIGHT)`.
 */
export abstract class InternalBatchController {
  protected constructor(
    private readonly ops: Readonly<Record<string, BatchOp>>,
    private readonly callsInFlight: CallsInFlight,
  ) {}

  @Post(INTERNAL_BATCH_PATH)
  @HttpCode(200)
  answer(@Body() body: unknown): Promise<{ answers: BatchAnswer[] }> {
    return answerBatch(body, this.ops, this.callsInFlight);
  }
}

async function answerCall(call: unknown, ops: Readonly<Record<string, BatchOp>>) {
  const { op, args, traceparent, tracestate } = (call ?? {}) as Partial<BatchCall>;
  const parent =
    typeof traceparent === 'string'
      ? propagation.extract(ROOT_CONTEXT, { traceparent, tracestate })
      : ROOT_CONTEXT;
  const span = tracer.startSpan(
    `batch ${typeof op === 'string' ? op.slice(0, 64) : 'call'}`,
    { kind: SpanKind.SERVER },
    parent,
  );
  try {
    if (typeof op !== 'string' || !Object.hasOwn(ops, op)) {
      throw new ValidationFailedException(`op: unknown call ${JSON.stringify(op)?.slice(0, 80)}`);
    }
    const problems = ops[op].check(args);
    if (problems.length > 0) throw new ValidationFailedException(problems.join('; '));
    const body = await context.with(trace.setSpan(parent, span), () => ops[op].run(args as never));
    return { status: 200, body };
  } catch (err) {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) {
      logger.error(`batch call ${String(op)} failed: ${(err as Error)?.stack ?? String(err)}`);
      span.setStatus({ code: SpanStatusCode.ERROR, message: body.message });
    }
    span.setAttribute('http.response.status_code', status);
    return { status, body: { error: body satisfies ErrorBody } };
  } finally {
    span.end();
  }
}
