import { EventType, type EventMap, type Topic } from '@lib/contracts';
import { uuidv7 } from './uuid-v7';

/** CloudEvents `specversion` this platform emits. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** `datacontenttype` of every event: `data` is a JSON object. */
export const EVENT_DATA_CONTENT_TYPE = 'application/json';
/**
 * Kafka `content-type` header of structured-mode CloudEvents (CloudEvents Kafka protocol binding §3.2):
 * the message value is the whole envelope, as JSON.
 */
export const CLOUDEVENTS_JSON_CONTENT_TYPE = 'application/cloudevents+json';

/**
 * Kafka header names of every event message. WARNING: a public contract (AsyncAPI `docs/asyncapi.yaml`);
 * never rename one.
 */
export const EventHeader = {
  ContentType: 'content-type',
  /** W3C Trace Context of the transaction that wrote the event, when it ran inside a trace. */
  TraceParent: 'traceparent',
  TraceState: 'tracestate',
  /**
   * Copies of the envelope's `id` and `type`, so routers and `kcat -f '%h'` can filter without parsing
   * the value. There is deliberately no `ce_specversion` header: SDKs take its presence as binary mode,
   * and these messages are structured mode (`content-type` says so).
   */
  CeId: 'ce_id',
  CeType: 'ce_type',
} as const;

/** A CloudEvents 1.0 envelope in JSON (structured content mode): what every message value holds. */
export interface CloudEvent<T = unknown> {
  specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  /** UUIDv7, unique per event; consumers deduplicate on it. */
  id: string;
  /** URI-reference of the publishing service, e.g. `/object-metadata`. */
  source: string;
  /** `EventType[topic]`, e.g. `com.platform.storage_file.updated.v1`. */
  type: string;
  /** RFC 3339 time the change happened (the payload's `occurredAt`, normalized to UTC). */
  time: string;
  /** The aggregate the event is about (the file's objectId or the runId); also the Kafka key by default. */
  subject: string;
  datacontenttype: typeof EVENT_DATA_CONTENT_TYPE;
  data: T;
}

export interface BuildCloudEventOptions {
  source: string;
  subject: string;
  /** Default: a fresh UUIDv7. */
  id?: string;
}

/**
 * Wraps `data` in the CloudEvents envelope of `topic`. `time` is the payload's `occurredAt` (when the
 * change happened, which CloudEvents asks for), normalized to UTC RFC 3339; now if it does not parse.
 * `data` is copied through JSON, so what is stored is exactly what subscribers will read (no
 * `undefined` fields, no class prototypes).
 */
export function buildCloudEvent<T extends Topic>(
  topic: T,
  data: EventMap[T],
  opts: BuildCloudEventOptions,
): CloudEvent<EventMap[T]> {
  const occurred = Date.parse(data.occurredAt);
  return {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: opts.id ?? uuidv7(),
    source: opts.source,
    type: EventType[topic],
    time: new Date(Number.isNaN(occurred) ? Date.now() : occurred).toISOString(),
    subject: opts.subject,
    datacontenttype: EVENT_DATA_CONTENT_TYPE,
    data: JSON.parse(JSON.stringify(data)) as EventMap[T],
  };
}

/** The Kafka headers of an event: content type, id/type copies, and the given trace headers. */
export function eventHeaders(
  event: Pick<CloudEvent, 'id' | 'type'>,
  traceHeaders: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    [EventHeader.ContentType]: CLOUDEVENTS_JSON_CONTENT_TYPE,
    [EventHeader.CeId]: event.id,
    [EventHeader.CeType]: event.type,
    ...traceHeaders,
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks the envelope of a consumed message value (already JSON-parsed) for `topic`. Returns the reason it
 * is not acceptable, or undefined. `data` itself is checked separately, against the topic's event class.
 * Unknown envelope attributes (CloudEvents extensions) are tolerated, as the CloudEvents spec requires.
 */
export function envelopeProblem(value: unknown, topic: Topic): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'value is not a JSON object';
  }
  const e = value as Record<string, unknown>;
  if (e.specversion !== CLOUDEVENTS_SPEC_VERSION) {
    return `specversion must be "${CLOUDEVENTS_SPEC_VERSION}"`;
  }
  if (typeof e.id !== 'string' || !UUID_RE.test(e.id)) return 'id must be a UUID';
  if (typeof e.source !== 'string' || e.source === '') return 'source must be a non-empty string';
  if (e.type !== EventType[topic]) return `type must be "${EventType[topic]}" on topic ${topic}`;
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) {
    return 'time must be an RFC 3339 timestamp';
  }
  if (typeof e.subject !== 'string' || e.subject === '')
    return 'subject must be a non-empty string';
  if (e.datacontenttype !== EVENT_DATA_CONTENT_TYPE) {
    return `datacontenttype must be "${EVENT_DATA_CONTENT_TYPE}"`;
  }
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) {
    return 'data must be a JSON object';
  }
  return undefined;
}
