import { CreateEventsDeadLetters1795000000003 } from './create-dead-letters.migration';
import { CreateEventsOutbox1795000000001 } from './create-outbox.migration';
import { CreateEventsProcessedEvents1795000000002 } from './create-processed-events.migration';

export {
  CreateEventsDeadLetters1795000000003,
  CreateEventsOutbox1795000000001,
  CreateEventsProcessedEvents1795000000002,
};

/** Migrations of a service that publishes events: add to its DataSource `migrations`. */
export const EVENTS_PUBLISHER_MIGRATIONS = [CreateEventsOutbox1795000000001];
/** Migrations of a service that consumes events (idempotent consumer + dead letters). */
export const EVENTS_CONSUMER_MIGRATIONS = [
  CreateEventsProcessedEvents1795000000002,
  CreateEventsDeadLetters1795000000003,
];
