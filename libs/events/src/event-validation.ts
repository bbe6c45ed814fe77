import {
  compileClassCheck,
  EventClass,
  type ClassCheck,
  type EventMap,
  type Topic,
} from '@lib/contracts';

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

export type EventValidation<T extends Topic> =
  { ok: true; data: EventMap[T] } | { ok: false; problems: string[] };

/** Each topic's class compiled once per mode (open, closed), on first use. */
const checks = { open: new Map<string, ClassCheck>(), closed: new Map<string, ClassCheck>() };

function checkOf(topic: Topic, closed: boolean): ClassCheck | undefined {
  const compiled = closed ? checks.closed : checks.open;
  let check = compiled.get(topic);
  if (!check) {
    const cls = EventClass[topic] as (typeof EventClass)[Topic] | undefined;
    if (!cls) return undefined;
    check = compileClassCheck(cls, { closed });
    compiled.set(topic, check);
  }
  return check;
}

/**
 * Checks `data` against `EventClass[topic]`'s class-validator decorators, compiled once
 * (`compileClassCheck`: the same verdicts and problems as `plainToInstance` + `validate`). `data` itself is
 * returned, typed: JSON data needs no instance.
 * - `closed: true` (publishers): a field the class does not declare is an error, so what is published is
 *   exactly what the AsyncAPI document describes (`additionalProperties: false`).
 * - `closed: false` (consumers): unknown fields are tolerated, so adding an optional field upstream does
 *   not turn every message into a dead letter.
 */
export function validateEventData<T extends Topic>(
  topic: T,
  data: unknown,
  { closed }: { closed: boolean },
): EventValidation<T> {
  const check = checkOf(topic, closed);
  if (!check) return { ok: false, problems: [`unknown topic ${topic}`] };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: ['data must be a JSON object'] };
  }
  const problems = check(data);
  return problems.length === 0 ? { ok: true, data: data as EventMap[T] } : { ok: false, problems };
}
