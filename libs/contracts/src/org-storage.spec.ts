import fc from 'fast-check';
import { ValidationFailedException } from '@lib/errors';
import {
  checkOrgListCursor,
  checkOrgName,
  checkOrgPath,
  encodeOrgListCursor,
  InvalidOrgPathError,
  joinOrgPath,
  parseOrgListCursor,
  parseOrgName,
  parseOrgPath,
} from './org-storage';

describe('parseOrgPath', () => {
  it('should answer the root when the path is absent, empty or /', () => {
    for (const root of [undefined, null, '', '/']) {
      expect(parseOrgPath(root)).toEqual({ path: '/', segments: [] });
    }
  });

  it('should split a canonical relative path when it is valid', () => {
    expect(parseOrgPath('reports/2026/q1.pdf')).toEqual({
      path: 'reports/2026/q1.pdf',
      segments: ['reports', '2026', 'q1.pdf'],
    });
    expect(parseOrgPath('café/日本語/...').segments).toEqual(['café', '日本語', '...']);
  });

  it.each([
    ['..', "'.' or '..'"],
    ['a/../b', "'.' or '..'"],
    ['./a', "'.' or '..'"],
    ['/a', 'relative'],
    ['a//b', 'empty segments'],
    ['a/', 'empty segments'],
    ['a\\b', "'\\'"],
    ['a\u0000b', 'control'],
    ['a\nb', 'control'],
    ['a\u202eb', 'control or invisible'],
    ['a\ufffdb', 'control or invisible'],
    ['%2e%2e', 'percent-escapes'],
    ['%252e', 'percent-escapes'],
    ['e\u0301', 'NFC'],
    ['\u2126', 'NFC'],
    [' a', 'whitespace'],
    ['x\ud800', 'not valid Unicode'],
    ['x'.repeat(256), '255 bytes'],
    ['é'.repeat(128), '255 bytes'],
    ['a/'.repeat(513) + 'a', '1024 bytes'],
  ])('should refuse hostile path #%# (expects: %s)', (path, message) => {
    expect(() => parseOrgPath(path)).toThrow(InvalidOrgPathError);
    expect(() => parseOrgPath(path)).toThrow(message);
  });

  it('should refuse what is not a string', () => {
    expect(() => parseOrgPath(['a'])).toThrow('must be a string');
  });
});

describe('parseOrgName', () => {
  it('should accept a name of exactly 255 bytes and NFC text', () => {
    expect(parseOrgName('x'.repeat(255))).toHaveLength(255);
    expect(parseOrgName('\u00e9t\u00e9.txt')).toBe('été.txt');
  });

  it('should refuse a name with a slash or an empty name', () => {
    expect(() => parseOrgName('a/b')).toThrow("must not contain '/'");
    expect(() => parseOrgName('')).toThrow('must not be empty');
  });
});

describe('joinOrgPath', () => {
  it('should join under the root without a leading slash', () => {
    expect(joinOrgPath('/', 'a')).toBe('a');
    expect(joinOrgPath('', 'a')).toBe('a');
    expect(joinOrgPath('x/y', 'a')).toBe('x/y/a');
  });
});

describe('folder listing cursor', () => {
  it('should read back every cursor it wrote', () => {
    const names = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((n) => {
      try {
        return parseOrgName(n) === n;
      } catch {
        return false;
      }
    });
    fc.assert(
      fc.property(fc.constantFrom('folder' as const, 'file' as const), names, (type, name) => {
        expect(parseOrgListCursor(encodeOrgListCursor({ type, name }))).toEqual({ type, name });
      }),
    );
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['not a pair', Buffer.from('["file"]').toString('base64url')],
    ['an unknown type', Buffer.from('["link","a"]').toString('base64url')],
    ['an invalid name', Buffer.from('["file","../a"]').toString('base64url')],
    ['too long', 'a'.repeat(2049)],
  ])('should refuse a cursor that is %s, naming the field', (_, raw) => {
    expect(() => parseOrgListCursor(raw)).toThrow(
      new InvalidOrgPathError('cursor must be the nextCursor of a previous page of this listing'),
    );
  });
});

describe('checkOrgPath, checkOrgName and checkOrgListCursor', () => {
  it('should answer what the parsers answer for valid input', () => {
    expect(checkOrgPath('a/b', 'dest_path')).toEqual({ path: 'a/b', segments: ['a', 'b'] });
    expect(checkOrgName('q3.csv', 'new_name')).toBe('q3.csv');
    const cursor = encodeOrgListCursor({ type: 'file', name: 'b' });
    expect(checkOrgListCursor(cursor, 'cursor')).toEqual({ type: 'file', name: 'b' });
  });

  it.each([
    ['dest_path', () => checkOrgPath('/a', 'dest_path')],
    ['new_name', () => checkOrgName('a/b', 'new_name')],
    ['cursor', () => checkOrgListCursor('!', 'cursor')],
  ])('should refuse invalid input with a 400 naming the field %s', (field, check) => {
    let thrown: unknown;
    try {
      check();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationFailedException);
    const { message, details } = thrown as ValidationFailedException;
    expect(message).toContain(field);
    expect(details).toEqual([{ field, problems: [message] }]);
  });
});
