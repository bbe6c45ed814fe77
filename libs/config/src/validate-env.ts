import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

/** Thrown at boot when the environment is incomplete or wrong; its message names every bad variable. */
export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((message) =>
      message.startsWith(e.property) ? message : `${e.property}: ${message}`,
    ),
  );
}

/**
 * Builds the validation of an environment (what `defineConfig` runs at boot): converts the raw one into an
 * instance of `envClass` (strings become numbers/booleans where the class says so), and throws one error
 * naming every missing or invalid variable, so the app stops at boot rather than at 3 a.m.
 */
export function validateEnv<T extends object>(envClass: new () => T) {
  return (raw: Record<string, unknown>): T => {
    const env = plainToInstance(envClass, raw, { exposeDefaultValues: true });
    const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
    if (errors.length > 0) throw new InvalidEnvironmentError(describe(errors));
    return env;
  };
}
