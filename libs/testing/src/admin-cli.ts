import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root';

/**
 * Runs the admin CLI from source (`tools/cli/main.ts`) with `args`, in the repository, with this process's
 * environment plus `env`. Resolves with its output; rejects like `execFile` when it exits non-zero (the
 * error carries `code`, `stdout` and `stderr`).
 */
export function runAdminCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', 'tools/cli/main.ts', ...args],
    { cwd: REPO_ROOT, env: { ...process.env, ...env } },
  );
}
