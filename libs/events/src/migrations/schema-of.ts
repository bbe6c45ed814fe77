import type { QueryRunner } from 'typeorm';

/**
 * The quoted schema these migrations create their objects in: the DataSource's `schema` (each service's own,
 * from `dataSourceOptions`), else `public`. Names are qualified rather than left to the search_path, so a
 * missing schema fails loudly instead of silently creating tables in `public`.
 */
export function schemaOf(queryRunner: QueryRunner): { name: string; q: string } {
  const name = queryRunner.connection.driver.schema ?? 'public';
  return { name, q: queryRunner.connection.driver.escape(name) };
}
