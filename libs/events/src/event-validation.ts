import { EventClass, type EventMap, type Topic } from '@lib/contracts';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';

/** An event payload that does not satisfy its topic's contract class. Thrown by the outbox writer. */
export class InvalidEventError extends Error {
  constructor(
    readonly topic: string,
    readonly problems: string[],
  ) {
    super(`invalid ${topic} event: ${problems.join('; ')}`);
    this.name = 'InvalidEventError';
  }
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [`${field}: ${Object.values(e.constraints).join(', ')}`] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

export type EventValidation<T extends Topic> =
  { ok: true; data: EventMap[T] } | { ok: false; problems: string[] };

/**
 * Checks `data` against `EventClass[topic]`: class-transformer `plainToInstance`, then class-validator
 * `validate` (the transform alone checks nothing).
 * - `closed: true` (publishers): a field the class does not declare is an error, so what is published is
 *   exactly what the AsyncAPI document describes (`additionalProperties: false`).
 * - `closed: false` (consumers): unknown fields are tolerated, so adding an optional field upstream does
 *   not turn every message into a dead letter.
 */
export async function validateEventData<T extends Topic>(
  topic: T,
  data: unknown,
  { closed }: { closed: boolean },
): Promise<EventValidation<T>> {
  const cls = EventClass[topic] as (new () => EventMap[T]) | undefined;
  if (!cls) return { ok: false, problems: [`unknown topic ${topic}`] };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: ['data must be a JSON object'] };
  }
  const instance = plainToInstance(cls, data);
  const errors = await validate(instance as object, {
    whitelist: closed,
    forbidNonWhitelisted: closed,
    forbidUnknownValues: true,
  });
  return errors.length === 0
    ? { ok: true, data: instance }
    : { ok: false, problems: flatten(errors) };
}
