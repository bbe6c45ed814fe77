import { parseBenchSelection } from './selection';

describe(parseBenchSelection.name, () => {
  const known = ['presign', 'reference', 'objects', 'usage'];

  it('should run every bench whole when BENCH_ONLY is unset or empty', () => {
    const all = known.map((name) => [name, undefined]);

    expect(parseBenchSelection(undefined, known)).toEqual(all);
    expect(parseBenchSelection(' ', known)).toEqual(all);
  });

  it('should keep the known order and pass sections when names carry them', () => {
    expect(parseBenchSelection('usage, objects:requests+list', known)).toEqual([
      ['objects', ['requests', 'list']],
      ['usage', undefined],
    ]);
  });

  it('should throw naming the known benches when a name is unknown', () => {
    expect(() => parseBenchSelection('objcts', known)).toThrow(
      'BENCH_ONLY: unknown bench "objcts" (known: presign, reference, objects, usage)',
    );
  });
});
