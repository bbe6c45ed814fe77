import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationFailedException } from './domain.exception';

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

/**
 * The global pipe of every app: strips nothing silently — unknown fields are an error — and converts
 * query strings to the DTO's types.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: validationExceptionFactory,
  });
}
