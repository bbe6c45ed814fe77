import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import fc from 'fast-check';
import { compileClassCheck, NOT_AN_OBJECT } from './class-check';
import { referenceProblems } from '../test/class-check-reference';

class Tag {
  @IsString()
  name!: string;
}

class Sample {
  @IsString()
  id!: string;

  @IsInt()
  @Min(1)
  @Max(9)
  count!: number;

  @IsOptional()
  @IsString()
  note?: string | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsIn(['a', 'b'])
  kind?: 'a' | 'b' | null;

  @IsString({ each: true })
  labels!: string[];

  @IsObject()
  @ValidateNested()
  @Type(() => Tag)
  tag!: Tag;

  @IsOptional()
  @ValidateNested()
  @Type(() => Tag)
  more?: Tag[];

  @IsDefined({ message: 'say $property' })
  flag!: unknown;
}

const valid = () => ({
  id: 'x',
  count: 3,
  note: null,
  kind: 'a',
  labels: ['p', 'q'],
  tag: { name: 't' },
  more: [{ name: 'u' }],
  flag: false,
});

describe(compileClassCheck.name, () => {
  const closed = compileClassCheck(Sample, { closed: true });
  const open = compileClassCheck(Sample, { closed: false });

  it('should find no problem when the data satisfies every decorator', () => {
    expect(closed(valid())).toEqual([]);
    expect(open(valid())).toEqual([]);
  });

  it('should name each failing field with class-validator’s messages, in its order', () => {
    const data = { ...valid(), count: 0, id: 7, flag: undefined };

    expect(open(data)).toEqual([
      'id: id must be a string',
      'count: count must not be less than 1',
      'flag: say flag',
    ]);
  });

  it('should refuse an undeclared field at every level when closed, and ignore it when open', () => {
    const data = { ...valid(), extra: 1, tag: { name: 't', deeper: true } };

    expect(closed(data)).toEqual([
      'extra: property extra should not exist',
      'tag.deeper: property deeper should not exist',
    ]);
    expect(open(data)).toEqual([]);
  });

  it('should skip optional fields that are null or missing, and apply ValidateIf', () => {
    const withoutNote: Record<string, unknown> = { ...valid(), kind: null };
    delete withoutNote.note;

    expect(open(withoutNote)).toEqual([]);
    expect(open({ ...valid(), kind: 'c' })).toEqual([
      'kind: kind must be one of the following values: a, b',
    ]);
  });

  it('should check nested objects and arrays of them, naming the path', () => {
    expect(
      open({ ...valid(), tag: { name: 1 }, more: [{ name: 'ok' }, 'x', { name: null }] }),
    ).toEqual([
      'tag.name: name must be a string',
      'more.1: nested property more must be either object or array',
      'more.2.name: name must be a string',
    ]);
    expect(open({ ...valid(), tag: 'x' })).toEqual([
      'tag: tag must be an object, nested property tag must be either object or array',
    ]);
  });

  it('should check each element of an `each` constraint', () => {
    expect(open({ ...valid(), labels: ['a', 2] })).toEqual([
      'labels: each value in labels must be a string',
    ]);
  });

  it('should refuse a value that is not an object', () => {
    for (const value of [null, 'x', 1, []]) expect(open(value)).toEqual([NOT_AN_OBJECT]);
  });

  it('should refuse to compile what it cannot check exactly', () => {
    class Bare {
      field!: string;
    }
    class Untyped {
      @ValidateNested()
      tag!: Tag;
    }
    class Transformed {
      @Transform(({ value }) => String(value))
      @IsString()
      field!: string;
    }
    class Defaulted {
      @IsString()
      field = 'x';
    }

    for (const cls of [Bare, Untyped, Transformed, Defaulted]) {
      expect(() => compileClassCheck(cls, { closed: false })).toThrow(/compileClassCheck/);
    }
  });

  it('should agree with plainToInstance + validate on generated data', async () => {
    const value = fc.oneof(
      fc.constantFrom(null, undefined, 0, 1, 5, 10, 2.5, -1, '', 'a', 'b', 'c', true, [], {}),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }),
      fc.record({ name: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()) }),
      fc.array(fc.oneof(fc.constant('x'), fc.record({ name: fc.string({ maxLength: 3 }) })), {
        maxLength: 3,
      }),
    );
    const data = fc
      .tuple(
        fc.dictionary(
          fc.constantFrom('id', 'count', 'note', 'kind', 'labels', 'tag', 'more', 'flag', 'extra'),
          value,
        ),
        fc.subarray(Object.keys(valid())),
      )
      .map(([changes, removed]) => {
        const d: Record<string, unknown> = { ...valid(), ...changes };
        for (const key of removed) delete d[key];
        return d;
      });

    await fc.assert(
      fc.asyncProperty(data, fc.boolean(), async (d, isClosed) => {
        const compiled = isClosed ? closed : open;
        expect(compiled(d)).toEqual(await referenceProblems(Sample, d, { closed: isClosed }));
      }),
      { numRuns: 500 },
    );
  });
});
