import { currentRequestId, resolveRequestId, runWithRequestContext } from './request-context';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(resolveRequestId.name, () => {
  it.each(['abc', 'req-1.2_3', 'A'.repeat(128), '0af7651916cd43dd8448eb211c80319c'])(
    'should keep the incoming id when it is a sane token (%s)',
    (id) => {
      expect(resolveRequestId(id)).toBe(id);
    },
  );

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(129)],
    ['a space', 'a b'],
    ['a newline (log forging)', 'abc\n{"level":"fatal"}'],
    ['quotes', '"abc"'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'idé'],
  ])('should generate a new id when the incoming one has %s', (_label, id) => {
    const sut = resolveRequestId(id);
    expect(sut).toMatch(UUID);
  });

  it('should generate a new id when there is no header', () => {
    expect(resolveRequestId(undefined)).toMatch(UUID);
  });

  it('should generate distinct ids when called twice', () => {
    expect(resolveRequestId(undefined)).not.toBe(resolveRequestId(undefined));
  });

  it('should use the first value when the header is repeated', () => {
    expect(resolveRequestId(['first', 'second'])).toBe('first');
  });
});

describe(runWithRequestContext.name, () => {
  it('should expose the request id inside the callback and its async continuations', async () => {
    const seen = await runWithRequestContext('r-1', async () => {
      const before = currentRequestId();
      await new Promise((resolve) => setImmediate(resolve));
      return [before, currentRequestId()];
    });
    expect(seen).toEqual(['r-1', 'r-1']);
  });

  it('should have no request id outside any context', () => {
    expect(currentRequestId()).toBeUndefined();
  });
});
