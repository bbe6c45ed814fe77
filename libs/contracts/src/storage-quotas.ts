import { IsInt, Max, Min, ValidateIf } from 'class-validator';

/**
 * WARNING: persisted in clients. The code of every refusal by an org's storage quota, whatever the route:
 * a 403 in the route's own error envelope.
 */
export const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';

/** An org's storage quota and what counts against it: every live file of every kind, and its bytes. */
export interface OrgQuotaView {
  /** Most bytes the org may store; null: unlimited. */
  maxBytes: number | null;
  /** Most files the org may store; null: unlimited. */
  maxFiles: number | null;
  usedBytes: number;
  usedFiles: number;
}

// Sizes are JavaScript numbers end to end (JSON, the events): exact up to 2^53.
const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

/** A quota limit: a whole number from 0, or null for none. */
function QuotaLimit(field: string): PropertyDecorator {
  const decorators = [
    ValidateIf((_: object, v: unknown) => v !== null),
    IsInt({ message: `${field} must be a whole number or null (unlimited)` }),
    Min(0, { message: `${field} must be 0 or more` }),
    Max(MAX_LIMIT, { message: `${field} must be at most ${MAX_LIMIT}` }),
  ];
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

/** Sets an org's storage quota: both limits, each a whole number or null (unlimited). */
export class OrgQuotaParams {
  @QuotaLimit('maxBytes')
  maxBytes!: number | null;

  @QuotaLimit('maxFiles')
  maxFiles!: number | null;
}
