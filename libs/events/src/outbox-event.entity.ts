import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { CloudEvent } from './cloud-event';

/**
 * A row of the transactional outbox (`outbox` in the owning service's schema): an event written in the
 * same transaction as the state change it describes, published to Kafka by the `OutboxRelay`.
 * Table created by `CreateEventsOutbox1795000000001`. WARNING: persisted names.
 */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished_idx', ['id'], { where: 'published_at IS NULL' })
@Index('outbox_published_at_idx', ['publishedAt'], { where: 'published_at IS NOT NULL' })
export class OutboxEvent {
  /** Insertion order; the relay publishes in this order. bigint: a string in JS. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'outbox_pkey' })
  id!: string;

  @Index('outbox_event_id_key', { unique: true })
  @Column({ type: 'uuid' })
  eventId!: string;

  @Column({ type: 'text' })
  topic!: string;

  /** Kafka message key: the aggregate id (file objectId, runId). */
  @Column({ type: 'text' })
  messageKey!: string;

  /** The whole CloudEvents envelope: the message value. */
  @Column({ type: 'jsonb' })
  payload!: CloudEvent;

  /** Kafka headers (content type, ce_id, ce_type, traceparent, tracestate). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers!: Record<string, string>;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** Failed publish attempts so far. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  /** Set once Kafka acknowledged the message; such rows are pruned after the relay's retention. */
  @Column({ type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;
}
