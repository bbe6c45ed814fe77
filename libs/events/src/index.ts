export * from './backoff';
export * from './cloud-event';
export * from './dead-letter.entity';
export * from './event-transport';
export * from './event-validation';
export * from './events-logger';
export * from './events.module';
export * from './idempotent-consumer';
export * from './migrations';
export * from './outbox-event.entity';
export * from './outbox-notify';
export * from './outbox-relay';
export * from './outbox-writer';
export * from './processed-event.entity';
export * from './trace-context';
export * from './uuid-v7';

import { DeadLetter } from './dead-letter.entity';
import { OutboxEvent } from './outbox-event.entity';
import { ProcessedEvent } from './processed-event.entity';

/** Entities of a publishing service (add to its DataSource `entities`). */
export const EVENTS_PUBLISHER_ENTITIES = [OutboxEvent];
/** Entities of a consuming service. */
export const EVENTS_CONSUMER_ENTITIES = [ProcessedEvent, DeadLetter];
