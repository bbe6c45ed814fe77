import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WithDatabase } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

class DatabaseOnlyEnv extends WithDatabase(class {}) {}
const validate = validateEnv(DatabaseOnlyEnv);
const base = { DATABASE_URL: 'postgres://app@db:5432/platform' };

/** The problems `validate` reports for `raw`, none when it passes. */
function problems(raw: Record<string, string>): string[] {
  try {
    validate(raw);
    return [];
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems;
    throw error;
  }
}

describe('WithDatabase DATABASE_CA_FILE', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'database-env-'));
    writeFileSync(join(dir, 'ca.pem'), 'x');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should be optional, an empty value counting as unset', () => {
    expect(validate(base).DATABASE_CA_FILE).toBeUndefined();
    expect(validate({ ...base, DATABASE_CA_FILE: '' }).DATABASE_CA_FILE).toBeUndefined();
  });

  it('should name a readable file', () => {
    const ca = join(dir, 'ca.pem');
    expect(validate({ ...base, DATABASE_CA_FILE: ca }).DATABASE_CA_FILE).toBe(ca);
    expect(problems({ ...base, DATABASE_CA_FILE: join(dir, 'missing.pem') })).toEqual([
      expect.stringMatching(/^DATABASE_CA_FILE must name a readable file: ENOENT/),
    ]);
  });
});
