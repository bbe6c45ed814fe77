import 'reflect-metadata';
import { IsEmail, IsString } from 'class-validator';
import { ValidationFailedException } from './domain.exception';
import { createValidationPipe } from './validation';

class UserDto {
  @IsEmail()
  email!: string;

  @IsString()
  name!: string;
}

describe('the global validation pipe (hostile input)', () => {
  const pipe = createValidationPipe();
  const body = (value: unknown, metatype: unknown = UserDto) =>
    pipe.transform(value, { type: 'body', metatype: metatype as typeof UserDto });

  it.each(['valueOf', 'toString', 'hasOwnProperty', 'constructor'])(
    'should refuse an unknown property named like Object.prototype.%s',
    async (key) => {
      const err = await body({ email: 'a@b.co', name: 'n', [key]: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedException);
      expect((err as Error).message).toBe(`property ${key} should not exist`);
    },
  );

  it('should answer 400 naming the field, not throw URIError, for text with a lone surrogate', async () => {
    const err = await body({ email: '\ud800', name: 'n' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailedException);
    expect((err as Error).message).toBe('email must be well-formed Unicode text');
  });

  it('should let free-form JSON keep any key but still refuse lone surrogates in it', async () => {
    await expect(body({ toString: 'x', nested: { valueOf: 1 } }, Object)).resolves.toEqual({
      toString: 'x',
      nested: { valueOf: 1 },
    });
    await expect(body({ a: ['ok', 'bad \udc00'] }, Object)).rejects.toThrow(
      'a.1 must be well-formed',
    );
  });

  it('should accept well-formed text, astral characters included', async () => {
    await expect(body({ email: 'a@b.co', name: '😀 é' })).resolves.toBeInstanceOf(UserDto);
  });
});
