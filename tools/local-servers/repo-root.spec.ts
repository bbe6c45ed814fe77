import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot, REPO_ROOT } from './repo-root';

describe('REPO_ROOT', () => {
  it('should be the folder of the repository, found from the sources', () => {
    expect(existsSync(join(REPO_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'tools', 'local-servers', 'repo-root.ts'))).toBe(true);
  });

  it('should be the same folder from the compiled tools in dist/, one level deeper', () => {
    expect(findRepoRoot(join(REPO_ROOT, 'dist', 'tools', 'local-servers'))).toBe(REPO_ROOT);
  });
});
