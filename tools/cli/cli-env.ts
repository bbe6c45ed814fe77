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
