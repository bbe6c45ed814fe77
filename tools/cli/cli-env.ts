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

/** A whole number of milliseconds from `name`, `fallback` when unset; a CliError naming it otherwise. */
export function millisecondsFromEnv(name: string, fallback: number): number {
  const text = optionalEnv(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new CliError(`${name} must be a whole number of milliseconds, 0 or more (got "${text}")`);
  }
  return value;
}
