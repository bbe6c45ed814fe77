import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A consumed message that could not be accepted (not JSON, not a CloudEvent of its topic, or a payload
 * failing its contract class): kept whole in `dead_letters` (consumer's schema) so nothing is silently
 * dropped, while the partition moves on. Unique per (topic, partition, offset): a redelivery is
 * recorded once. Table created by `CreateEventsDeadLetters1795000000003`. WARNING: persisted names.
 */
@Entity({ name: 'dead_letters' })
@Unique('dead_letters_position_key', ['topic', 'partition', 'offset'])
export class DeadLetter {
  @PrimaryGeneratedColumn('increment', {
    type: 'bigint',
    primaryKeyConstraintName: 'dead_letters_pkey',
  })
  id!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Column({ type: 'integer' })
  partition!: number;

  /** Kafka offset (int64; a string in JS). */
  @Column({ type: 'bigint' })
  offset!: string;

  @Column({ type: 'text', nullable: true })
  messageKey!: string | null;

  /** The message value, byte for byte. */
  @Column({ type: 'bytea', nullable: true })
  rawValue!: Buffer | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers!: Record<string, string>;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;
}
