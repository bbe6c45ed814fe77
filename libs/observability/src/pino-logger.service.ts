import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

type Parsed = { messages: unknown[]; context?: string; stack?: string };

const STACK_FORMAT = /^(.)+\n\s+at .+:\d+:\d+/;

/**
 * Nest's `LoggerService` over a pino logger, so framework lines (bootstrap, exceptions) are JSON too.
 * Pass it as `NestFactory.create(..., { logger: new PinoLoggerService(logger) })`.
 *
 * Call shapes follow Nest's `ConsoleLogger`: `(message, context?)`, `(message, stack?, context?)` for
 * `error`, and extra messages before the context. Object messages become fields, an Error goes to
 * `err`, the first string is `msg` (so `error({ err }, 'what failed')` reads like pino).
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams, false);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams, true);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams, false);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams, false);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams, false);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams, false);
  }

  private write(level: Level, message: unknown, params: unknown[], withStack: boolean): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const args = [message, ...params];
    const { messages, context, stack } = withStack ? splitWithStack(args) : splitContext(args);

    const fields: Record<string, unknown> = {};
    let msg: string | undefined;
    const extra: unknown[] = [];
    for (const part of messages) {
      if (part instanceof Error) {
        fields.err = part;
      } else if (typeof part === 'object' && part !== null && !Array.isArray(part)) {
        Object.assign(fields, part);
      } else if (msg === undefined && isPrimitive(part)) {
        msg = String(part);
      } else if (part !== undefined) {
        extra.push(part);
      }
    }
    if (msg === undefined && fields.err instanceof Error) msg = fields.err.message;
    if (extra.length > 0) fields.extra = extra;
    if (context !== undefined) fields.context = context;
    if (stack !== undefined) fields.stack = stack;

    if (msg === undefined) this.logger[level](fields);
    else this.logger[level](fields, msg);
  }
}

// Same rules as Nest's ConsoleLogger#getContextAndMessagesToPrint: a trailing string is the context.
function splitContext(args: unknown[]): Parsed {
  if (args.length <= 1) return { messages: args };
  const last = args[args.length - 1];
  return typeof last === 'string'
    ? { messages: args.slice(0, -1), context: last }
    : { messages: args };
}

// Same rules as ConsoleLogger#getContextAndStackAndMessagesToPrint.
function splitWithStack(args: unknown[]): Parsed {
  if (args.length === 2) {
    const second = args[1];
    return isStackFormat(second) ? { messages: [args[0]], stack: second } : splitContext(args);
  }
  const { messages, context } = splitContext(args);
  if (messages.length <= 1) return { messages, context };
  const last = messages[messages.length - 1];
  if (last === undefined) return { messages: messages.slice(0, -1), context };
  // Nest would print any trailing string as a stack; a plain sentence stays a message here, so
  // `logger.error({ err }, 'what failed')` keeps its text.
  return isStackFormat(last)
    ? { messages: messages.slice(0, -1), context, stack: last }
    : { messages, context };
}

function isStackFormat(value: unknown): value is string {
  return typeof value === 'string' && STACK_FORMAT.test(value);
}

function isPrimitive(value: unknown): value is string | number | boolean | bigint | symbol | null {
  return (
    value === null ||
    (typeof value !== 'object' && typeof value !== 'function' && value !== undefined)
  );
}
