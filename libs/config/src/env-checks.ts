import { accessSync, constants, statSync } from 'node:fs';
import { registerDecorator, type ValidationArguments } from 'class-validator';

/** `@Transform`: an empty variable (`FOO=`, a blank ConfigMap key) counts as unset. */
export const emptyAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * A rule of a string variable that may look at the other variables: `problem` gets the value (undefined
 * when unset, so it can require it) and the whole environment, and returns what is wrong (the message,
 * naming the variable) or undefined.
 */
export function EnvCheck<Env>(
  problem: (value: string | undefined, env: Env) => string | undefined,
) {
  return (target: object, propertyName: string) => {
    const check = ({ value, object }: { value: unknown; object: object }) =>
      typeof value === 'string' || value === undefined
        ? problem(value, object as Env)
        : `${propertyName} must be a string`;
    registerDecorator({
      name: 'envCheck',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (_value: unknown, args: ValidationArguments) => check(args) === undefined,
        defaultMessage: (args: ValidationArguments) => check(args) ?? '',
      },
    });
  };
}

/** Why the file `name` points at cannot be read, or undefined when it can. */
export function unreadableFile(name: string, path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile() ? undefined : `${name} must name a file: ${path} is not one`;
  } catch (error) {
    return `${name} must name a readable file: ${(error as Error).message}`;
  }
}
