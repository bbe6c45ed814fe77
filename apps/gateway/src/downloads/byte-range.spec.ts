import { singleByteRange } from './byte-range';

describe(singleByteRange.name, () => {
  it('should pass a single well-formed byte range when the header has one', () => {
    expect(singleByteRange('bytes=0-99')).toBe('bytes=0-99');
    expect(singleByteRange('bytes=100-')).toBe('bytes=100-');
    expect(singleByteRange('bytes=-5')).toBe('bytes=-5');
  });

  it('should ignore the header when it is absent, malformed, reversed or asks for several ranges', () => {
    for (const h of [
      undefined,
      '',
      'bytes=-',
      'bytes=5-1',
      'bytes=0-1,3-4',
      'items=0-1',
      'bytes=a-b',
    ]) {
      expect(singleByteRange(h)).toBeUndefined();
    }
  });
});
