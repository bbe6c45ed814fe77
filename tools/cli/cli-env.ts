import type { PostgresConnection } from '@lib/database';

/** Thrown for anything the operator got wrong; printed without a stack trace. */
export class CliError extends Error {}

export function requireEnv(name: string, why: string): string {
  const value = process.env[name];
  if (!value) throw new CliError(`${name} is not set; it is needed ${why}`);
  return value;
}

export function optionalEnv(name: string): string | null {
  return process.env[name] || null;
}

/** DATABASE_URL (required `why`) and DATABASE_CA_FILE: what every command connects to Postgres with. */
export function databaseFromEnv(why: string): PostgresConnection {
  return {
    url: requireEnv('DATABASE_URL', why),
    caFile: optionalEnv('DATABASE_CA_FILE') ?? undefined,
  };
}
