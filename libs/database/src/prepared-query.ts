import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/** The pg pool under a TypeORM Postgres DataSource (set once it is initialized). */
export function pgPoolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/**
 * Runs one statement as a named prepared statement on the data source's own pg pool (same connections,
 * search_path and timeouts), for the hot single-row reads of a request path. Postgres parses and plans a
 * named statement once per connection instead of on every call, and the call skips TypeORM's per-query
 * QueryRunner. `name` must be unique per statement text in the process (pg refuses a name reused for
 * another text). Outside a transaction only: use the EntityManager within one.
 */
export async function queryPrepared<T extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const result = await pgPoolOf(dataSource).query<T>({ name, text, values });
  return result.rows;
}
