/**
 * A bench's own sections picked by BENCH_ONLY (comma-separated; unset: every section). `npm run bench`
 * passes a bench the sections named after its `name:` (bench/lib/selection.ts).
 */
export function sectionWanted(section: string): boolean {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  return !only || only.includes(section);
}

/**
 * Runs a bench's `main` and exits: 0 (or the `process.exitCode` it set), 1 with the error's stack when it
 * throws. Exiting explicitly ends the bench even when a client or timer the bench forgot keeps the loop alive.
 */
export function runBenchMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
