import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * `dead_letters` of a consumer, in the DataSource's schema: poison messages kept whole (raw bytes), one row
 * per (topic, partition, offset). WARNING: persisted name (the migrations table records it); never rename.
 */
export class CreateEventsDeadLetters1795000000003 implements MigrationInterface {
  name = 'CreateEventsDeadLetters1795000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${q}.dead_letters (
        id          bigserial   NOT NULL,
        topic       text        NOT NULL,
        "partition" integer     NOT NULL,
        "offset"    bigint      NOT NULL,
        message_key text,
        raw_value   bytea,
        headers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
        reason      text        NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT dead_letters_pkey PRIMARY KEY (id),
        CONSTRAINT dead_letters_position_key UNIQUE (topic, "partition", "offset")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${q}.dead_letters`);
  }
}
