import type { LoggerService } from '@nestjs/common';

/** What the relay and the consumer log to: a Nest `Logger` (the default) or any LoggerService. */
export type EventsLogger = Pick<LoggerService, 'log' | 'warn' | 'error'>;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
