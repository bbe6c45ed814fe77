import pino, { type DestinationStream, type Logger, type LevelWithSilentOrString } from 'pino';
import { REDACTED, redactSecrets } from './redaction';
import { currentRequestId } from './request-context';
import { currentSpanContext } from './trace-context';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Written on every line as `service`. */
  service: string;
  /** Minimum level (`trace` … `fatal`, `silent`); default `info`. */
  level?: LevelWithSilentOrString;
  /** Where JSON lines go; default stdout through an asynchronous (batched) writer. */
  destination?: DestinationStream;
}

/** Header and field paths whose values never reach the logs. */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["api-key"]',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["api-key"]',
  'headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  'secret',
  '*.secret',
  // Object keys are download capabilities.
  'key',
  '*.key',
  'objectKey',
  '*.objectKey',
  'object_key',
  '*.object_key',
];

/** pino's level labels as log backends' severities (Google Cloud Logging's names, also OpenTelemetry's). */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * A pino logger writing one JSON object per line: `level` (label), `severity`, `time` (epoch ms), `service`,
 * `msg`, plus `trace_id`/`span_id` of the active span and `request_id` of the current request.
 * Fields named in `REDACTED_PATHS` are censored, and every line is passed through `redactSecrets` as it
 * is written, so no object key or URL signature reaches the logs whatever field, message or error
 * stack quotes it (children inherit both).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      // No pid/hostname: the platform labels lines with pod and container already.
      base: { service: options.service },
      // Epoch ms, pino's default: an ISO string doubles the cost of a short line.
      // `level` as a label (Loki, Datadog, Elastic read it) and `severity` as Google Cloud Logging names it.
      formatters: { level: (label) => ({ level: label, severity: SEVERITY[label] ?? 'DEFAULT' }) },
      mixin: correlationFields,
      redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
      hooks: { streamWrite: redactSecrets },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * A child for lines built only from known-safe fields (the per-request completion line): it skips the
 * redaction of field paths, whose wildcards cost more than the rest of the line together (the line is
 * still passed through `redactSecrets`).
 */
export function unredactedChild(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

function correlationFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const spanContext = currentSpanContext();
  if (spanContext !== undefined) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
  }
  const requestId = currentRequestId();
  if (requestId !== undefined) fields.request_id = requestId;
  return fields;
}
