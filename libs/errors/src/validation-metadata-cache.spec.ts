import 'reflect-metadata';
import { getMetadataStorage, IsInt, IsString, validate } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Base {
  @IsString()
  name!: string;
}

class Derived extends Base {
  @IsInt()
  count!: number;
}

const problems = async (value: object) =>
  (await validate(value, { whitelist: true, forbidNonWhitelisted: true })).flatMap((e) =>
    Object.keys(e.constraints ?? {}).map((c) => `${e.property}:${c}`),
  );

describe(cacheValidationMetadata.name, () => {
  beforeAll(() => cacheValidationMetadata());

  it('should keep inherited and own rules of a class, as without the cache', async () => {
    const derived = Object.assign(new Derived(), { name: 7, count: 'x', extra: 1 });
    expect((await problems(derived)).sort()).toEqual([
      'count:isInt',
      'extra:whitelistValidation',
      'name:isString',
    ]);
    expect(await problems(Object.assign(new Base(), { name: 'n', count: 1 }))).toEqual([
      'count:whitelistValidation',
    ]);
  });

  it('should answer the same metadata array for the same class and options', () => {
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Derived, '', false, false);
    expect(storage.getTargetValidationMetadatas(Derived, '', false, false)).toBe(first);
    expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));
    expect(storage.getTargetValidationMetadatas(Derived, '', true, false)).not.toBe(first);
  });

  it('should apply a rule registered after the class was first validated', async () => {
    class Late {
      @IsString()
      label!: string;

      size!: number;
    }
    expect(await problems(Object.assign(new Late(), { label: 'a', size: 'big' }))).toEqual([
      'size:whitelistValidation',
    ]);
    IsInt()(Late.prototype, 'size'); // what a decorator does when its class is loaded
    expect(await problems(Object.assign(new Late(), { label: 'a', size: 'big' }))).toEqual([
      'size:isInt',
    ]);
  });

  it('should be installed once however often it is called', () => {
    const storage = getMetadataStorage();
    const lookup = storage.getTargetValidationMetadatas;
    cacheValidationMetadata();
    expect(storage.getTargetValidationMetadatas).toBe(lookup);
  });
});
