import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OUTBOX_NOTIFY_CHANNEL } from '../outbox-notify';
import { schemaOf } from './schema-of';

/**
 * The transactional outbox of a publishing service, in the DataSource's schema: the `outbox` table, a partial
 * index on the unpublished rows (the relay's hot path stays small however many published rows await pruning),
 * and a statement-level trigger that NOTIFYs the relay (channel `outbox`, payload = schema name) when rows
 * are inserted; NOTIFY is delivered at commit, never for a rolled-back transaction.
 * WARNING: persisted name (the migrations table records it); never rename.
 */
export class CreateEventsOutbox1795000000001 implements MigrationInterface {
  name = 'CreateEventsOutbox1795000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${q}.outbox (
        id           bigserial   NOT NULL,
        event_id     uuid        NOT NULL,
        topic        text        NOT NULL,
        message_key  text        NOT NULL,
        payload      jsonb       NOT NULL,
        headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        attempts     integer     NOT NULL DEFAULT 0,
        last_error   text,
        published_at timestamptz,
        CONSTRAINT outbox_pkey PRIMARY KEY (id)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX outbox_event_id_key ON ${q}.outbox (event_id)`);
    await queryRunner.query(
      `CREATE INDEX outbox_unpublished_idx ON ${q}.outbox (id) WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX outbox_published_at_idx ON ${q}.outbox (published_at) WHERE published_at IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE FUNCTION ${q}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${OUTBOX_NOTIFY_CHANNEL}', TG_TABLE_SCHEMA);
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON ${q}.outbox
      FOR EACH STATEMENT EXECUTE FUNCTION ${q}.outbox_notify()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const { q } = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${q}.outbox`);
    await queryRunner.query(`DROP FUNCTION ${q}.outbox_notify()`);
  }
}
