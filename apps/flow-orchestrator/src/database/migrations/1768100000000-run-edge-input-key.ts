import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `run_edges.input_key`: where a waiting edge's upload is copied to once it is noticed, a key no PutURL
 * names (the PutURL stays valid until it expires). Set once, by the first notice to copy the upload; null
 * while nothing was copied.
 */
export class RunEdgeInputKey1768100000000 implements MigrationInterface {
  name = 'RunEdgeInputKey1768100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE run_edges ADD COLUMN input_key text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE run_edges DROP COLUMN input_key`);
  }
}
