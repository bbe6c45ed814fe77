import { Body, HttpCode, Logger, Post } from '@nestjs/common';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { compileClassCheck, type ClassCheck, type ServicePrincipal } from '@lib/contracts';
import { toErrorResponse, ValidationFailedException, type ErrorBody } from '@lib/errors';
import { InternalCaller, principalOf, type InternalCall } from './service-auth';
import {
  ServiceAuthFailure,
  ServiceCallForbiddenException,
  ServiceTokenRefusedException,
  type ServiceTokens,
} from './service-tokens';

// Batched internal calls: the gateway sends the hot single-object operations of concurrent requests as one
// `POST /internal/batch` (ServiceClient.batched) and the service answers each call as its own route would,
// status and body, in order. An HTTP exchange costs each side far more CPU than the row it carries (a
// socket write and read, parsing, the framework's pipeline, a server span), so under load N requests share
// one; at rest a call goes alone at the next event-loop turn. The calls of one request act for different
// principals, so each call that acts for one carries its own service token (the caller's, as the request's).

export const INTERNAL_BATCH_PATH = '/internal/batch';
export const MAX_BATCH_CALLS = 256;
/**
 * A batch request's body stays under this (a service's default body limit is 1 MiB): the calls of one turn
 * that weigh more go as several requests, a call bigger than it alone.
 */
export const MAX_BATCH_BODY_BYTES = 512 * 1024;

/** One call: the op's name, its arguments, its service token, and the caller's W3C trace context. */
export interface BatchCall {
  op: string;
  args: object;
  /** A service token naming the principal the call acts for; absent on public ops. */
  token?: string;
  traceparent?: string;
  tracestate?: string;
}

/** The answer to one call: the status and JSON body its own route would answer (`{error}` from 400 on). */
export interface BatchAnswer {
  status: number;
  body: unknown;
}

/** An op: its arguments' check, and what answers it (acting for the principal of its call, or for none). */
export type BatchOp = { check: ClassCheck } & (
  | { actsForOrg: true; run: (args: never, principal: ServicePrincipal) => Promise<unknown> }
  | { actsForOrg: false; run: (args: never) => Promise<unknown> }
);

/**
 * An op of a service's batch endpoint that acts for the principal of its call's token: its arguments' class
 * (checked, closed) and what answers it.
 */
export function batchOp<A extends object>(
  args: new () => A,
  run: (args: A, principal: ServicePrincipal) => Promise<unknown>,
): BatchOp {
  return { check: compileClassCheck(args, { closed: true }), actsForOrg: true, run };
}

/**
 * An op that acts for no org: it answers what the public API answers anyone (a file by its unguessable
 * key), so its call carries no principal.
 */
export function publicBatchOp<A extends object>(
  args: new () => A,
  run: (args: A) => Promise<unknown>,
): BatchOp {
  return { check: compileClassCheck(args, { closed: true }), actsForOrg: false, run };
}

/** The verified caller of a batch request, and the tokens its calls' tokens are checked with. */
export interface BatchCaller {
  call: InternalCall;
  tokens: ServiceTokens;
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
 * A call of an op that acts for an org is refused (401/403, alone) unless its token is the request's
 * caller's, for this app, alive, and names a principal.
 */
export async function answerBatch(
  body: unknown,
  ops: Readonly<Record<string, BatchOp>>,
  from: BatchCaller,
  inFlight?: CallsInFlight,
): Promise<{ answers: BatchAnswer[] }> {
  const calls = (body as { calls?: unknown } | null)?.calls;
  if (!Array.isArray(calls) || calls.length === 0 || calls.length > MAX_BATCH_CALLS) {
    throw new ValidationFailedException(`calls must be an array of 1 to ${MAX_BATCH_CALLS} calls`);
  }
  inFlight?.inc(calls.length);
  try {
    return {
      answers: await Promise.all(calls.map((call: unknown) => answerCall(call, ops, from))),
    };
  } finally {
    inFlight?.dec(calls.length);
  }
}

/**
 * A service's `POST /internal/batch` endpoint: extend it in a `@Controller()` class, with `@CalledBy` naming
 * its callers, whose constructor passes the ops it answers, `metrics.gauge(BATCH_CALLS_IN_FLIGHT)` and the
 * app's `ServiceTokens`.
 */
export abstract class InternalBatchController {
  protected constructor(
    private readonly ops: Readonly<Record<string, BatchOp>>,
    private readonly callsInFlight: CallsInFlight,
    private readonly tokens: ServiceTokens,
  ) {}

  @Post(INTERNAL_BATCH_PATH)
  @HttpCode(200)
  answer(
    @Body() body: unknown,
    @InternalCaller() call: InternalCall,
  ): Promise<{ answers: BatchAnswer[] }> {
    return answerBatch(body, this.ops, { call, tokens: this.tokens }, this.callsInFlight);
  }
}

/** What answers a call of `op`: for an op acting for an org, with the principal of the call's token. */
function runnerOf(
  op: BatchOp,
  token: unknown,
  from: BatchCaller,
): (args: never) => Promise<unknown> {
  if (!op.actsForOrg) return op.run;
  const principal = principalOfCall(token, from);
  return (args) => op.run(args, principal);
}

/** The principal a call acts for, from its own token (the request's caller's). */
function principalOfCall(token: unknown, from: BatchCaller): ServicePrincipal {
  if (typeof token !== 'string') {
    throw new ServiceTokenRefusedException(
      ServiceAuthFailure.MissingToken,
      'This call acts for an org: it needs a service token naming its principal',
    );
  }
  const claims = from.tokens.verify(token);
  if (claims.iss !== from.call.caller) {
    throw new ServiceCallForbiddenException(
      ServiceAuthFailure.CallerMismatch,
      `The call's token is ${claims.iss}'s, the request ${from.call.caller}'s`,
    );
  }
  return principalOf({ caller: claims.iss, principal: claims.principal ?? null });
}

async function answerCall(
  call: unknown,
  ops: Readonly<Record<string, BatchOp>>,
  from: BatchCaller,
) {
  const { op, args, token, traceparent, tracestate } = (call ?? {}) as Partial<BatchCall>;
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
    const run = runnerOf(ops[op], token, from);
    const problems = ops[op].check(args);
    if (problems.length > 0) throw new ValidationFailedException(problems.join('; '));
    const body = await context.with(trace.setSpan(parent, span), () => run(args as never));
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
