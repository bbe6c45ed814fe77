import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest folder at or above `from` that holds `nest-cli.json`: the repository's root. */
export function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nest-cli.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`repo root not found above ${from}`);
  }
}

/**
 * The repository's root, from sources and from dist/ alike (`npm run start:local` runs the compiled
 * tools): the local servers' class paths and data live below it.
 */
export const REPO_ROOT = findRepoRoot(__dirname);
