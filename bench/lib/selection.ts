/**
 * Parses `npm run bench`'s BENCH_ONLY: a comma-separated list of bench names, each optionally followed by
 * `:section+section` (passed on to that bench as its own BENCH_ONLY). Unset or empty: every bench, whole.
 * Returns the benches to run in the order of `known`, with their sections (undefined = all). An unknown
 * name throws, naming the known ones.
 */
export function parseBenchSelection(
  only: string | undefined,
  known: readonly string[],
): [string, string[] | undefined][] {
  if (only === undefined || only.trim() === '') return known.map((name) => [name, undefined]);
  const picked = new Map<string, string[] | undefined>();
  for (const item of only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, sections] = item.split(':');
    if (!known.includes(name)) {
      throw new Error(`BENCH_ONLY: unknown bench "${name}" (known: ${known.join(', ')})`);
    }
    picked.set(name, sections ? sections.split('+').filter(Boolean) : undefined);
  }
  return known.filter((name) => picked.has(name)).map((name) => [name, picked.get(name)]);
}
