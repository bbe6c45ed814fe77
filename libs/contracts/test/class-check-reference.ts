import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [`${field}: ${Object.values(e.constraints).join(', ')}`] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * The oracle `compileClassCheck` is held to: class-transformer `plainToInstance`, then class-validator
 * `validate` (whitelist + forbidNonWhitelisted when closed, forbidUnknownValues), flattened to `field: messages`.
 */
export async function referenceProblems(
  cls: new () => object,
  data: object,
  { closed }: { closed: boolean },
): Promise<string[]> {
  const errors = await validate(plainToInstance(cls, data), {
    whitelist: closed,
    forbidNonWhitelisted: closed,
    forbidUnknownValues: true,
  });
  return flatten(errors);
}
