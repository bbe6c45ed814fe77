import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * `processed_events` of an idempotent consumer, in the DataSource's schema: one row per applied event id.
 * The index on `processed_at` serves pruning ids older than any possible redelivery.
 * WARNING: persisted name (the migrations table records it); never rename.
 */
export class CreateEventsProcessedEvents1795000000002 implements MigrationInterface {
  name = 'CreateEventsProcessedEvents1795000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${q}.processed_events (
        event_id     uuid        NOT NULL,
        topic        text        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT processed_events_pkey PRIMARY KEY (event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX processed_events_processed_at_idx ON ${q}.processed_events (processed_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${q}.processed_events`);
  }
}
