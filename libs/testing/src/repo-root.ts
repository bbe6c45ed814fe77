import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRepoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nest-cli.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`repo root not found above ${__dirname}`);
  }
}

/** The repository's root, from sources (libs/testing/src) and from dist/ alike. */
export const REPO_ROOT = findRepoRoot();
