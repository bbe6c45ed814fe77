import type { Attributes, AttributeValue, Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-node';
import { redactSecrets } from './redaction';

/**
 * Passes every ended span to `next` (the exporting processor) with its secrets blanked out: the span's
 * name, attributes (`url.full`, `url.path`, `url.query` of http and undici client spans: S3 request paths,
 * presigned URLs, internal `?key=` queries), status message and events (recorded exceptions) go through
 * `redactSecrets`. The span itself is left as it is; `next` gets a view of it with the redacted values.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    this.next.onEnd(redactedSpan(span));
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** `span`, or a view of it (its prototype) with the redacted values when any value held a secret. */
export function redactedSpan(span: ReadableSpan): ReadableSpan {
  const name = redactSecrets(span.name);
  const attributes = redactAttributes(span.attributes);
  const events = span.events.map(redactEvent);
  const status =
    span.status.message === undefined
      ? span.status
      : { ...span.status, message: redactSecrets(span.status.message) };
  const changed =
    name !== span.name ||
    attributes !== span.attributes ||
    events.some((event, i) => event !== span.events[i]) ||
    status.message !== span.status.message;
  if (!changed) return span;
  return Object.create(span, {
    name: { value: name },
    attributes: { value: attributes },
    events: { value: events },
    status: { value: status },
  }) as ReadableSpan;
}

function redactEvent(event: TimedEvent): TimedEvent {
  if (event.attributes === undefined) return event;
  const attributes = redactAttributes(event.attributes);
  return attributes === event.attributes ? event : { ...event, attributes };
}

/** `attributes`, or a copy with the redacted values when any value held a secret. */
function redactAttributes(attributes: Attributes): Attributes {
  let copy: Attributes | undefined;
  for (const [key, value] of Object.entries(attributes)) {
    const redacted = redactValue(value);
    if (redacted !== value) {
      copy ??= { ...attributes };
      copy[key] = redacted;
    }
  }
  return copy ?? attributes;
}

function redactValue(value: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof value === 'string') return redactSecrets(value);
  if (!Array.isArray(value) || !value.some((item) => typeof item === 'string')) return value;
  const items = (value as unknown[]).map((item) =>
    typeof item === 'string' ? redactSecrets(item) : item,
  );
  return items.every((item, i) => item === value[i]) ? value : (items as AttributeValue);
}
