import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedException } from '@lib/errors';

/**
 * The Objects API's optional `EmptyRecord` body (complete, delete): absent or `{}`; any field is refused, like
 * unknown fields everywhere else.
 */
@Injectable()
export class EmptyBodyPipe implements PipeTransform<unknown, undefined> {
  transform(value: unknown): undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ValidationFailedException('the request body must be an empty JSON object', [
        { field: 'body', problems: ['must be an empty JSON object'] },
      ]);
    }
    const fields = Object.keys(value);
    if (fields.length > 0) {
      throw new ValidationFailedException(
        fields.map((f) => `property ${f} should not exist`).join('; '),
        fields.map((f) => ({ field: f, problems: [`property ${f} should not exist`] })),
      );
    }
    return undefined;
  }
}
