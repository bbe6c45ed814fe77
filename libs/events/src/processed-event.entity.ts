import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event a consumer already applied (`processed_events` in the consumer's schema), inserted in the same
 * transaction as the event's effects: a redelivered event finds its id here and is skipped.
 * Table created by `CreateEventsProcessedEvents1795000000002`. WARNING: persisted names.
 */
@Entity({ name: 'processed_events' })
export class ProcessedEvent {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'processed_events_pkey' })
  eventId!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Index('processed_events_processed_at_idx')
  @Column({ type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
