import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationFailedException } from './domain.exception';
import { cacheValidationMetadata } from './validation-metadata-cache';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, problems: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Turns class-validator errors into one 400 whose message and details name every bad field. */
export function validationExceptionFactory(errors: ValidationError[]): ValidationFailedException {
  const details = flatten(errors);
  const message = details.map((d) => d.problems.join(', ')).join('; ');
  return new ValidationFailedException(message || 'invalid request', details);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What class-validator lets through or chokes on, found before it runs (hostile input suite): a key named
 * like an `Object.prototype` member (`valueOf`, `toString`, `hasOwnProperty`: its whitelist check looks
 * keys up in a plain object and misses them; checked for DTO classes only), and text with a lone UTF-16 surrogate (validator's `isEmail`
 * throws `URIError` on it: a 500). Returns the field and its problem, or undefined.
 */
export function findHostileInput(
  value: unknown,
  opts: { prototypeKeys: boolean },
  field = '',
  depth = 0,
): FieldProblem | undefined {
  if (typeof value === 'string') {
    return LONE_SURROGATE.test(value)
      ? {
          field: field || 'body',
          problems: [`${field || 'body'} must be well-formed Unicode text`],
        }
      : undefined;
  }
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const path = field ? `${field}.${key}` : key;
    const shadows =
      opts.prototypeKeys && Object.prototype.hasOwnProperty.call(Object.prototype, key);
    if (shadows || LONE_SURROGATE.test(key)) {
      return { field: path, problems: [`property ${path} should not exist`] };
    }
    const found = findHostileInput(child, opts, path, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const PLAIN_TYPES = new Set<unknown>([Object, String, Number, Boolean, Array]);

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      // Free-form JSON (a trigger's payload, typed `unknown`) keeps any key; class-validated DTOs do not.
      const dto = metadata.metatype !== undefined && !PLAIN_TYPES.has(metadata.metatype);
      const hostile = findHostileInput(value, { prototypeKeys: dto });
      if (hostile) throw new ValidationFailedException(hostile.problems.join(', '), [hostile]);
    }
    return super.transform(value, metadata);
  }
}

/**
 * The global pipe of every app: strips nothing silently — unknown fields are an error — and converts
 * query strings to the DTO's types. Installs the class-validator metadata cache (every `validate` of the
 * process gets it).
 */
export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: validationExceptionFactory,
  });
}
