import { AppEnv } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

const validate = validateEnv(AppEnv);

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

describe('AppEnv ports', () => {
  it('should take the public port and a management port of its own', () => {
    expect(validate({ PORT: '3000', MANAGEMENT_PORT: '3100' })).toMatchObject({
      PORT: 3000,
      MANAGEMENT_PORT: 3100,
    });
    // 0: each chosen by the system, as tests do.
    expect(problems({ PORT: '0', MANAGEMENT_PORT: '0' })).toEqual([]);
  });

  it('should refuse a missing management port, or the public one again', () => {
    expect(problems({ PORT: '3000' })).toContainEqual(expect.stringMatching(/^MANAGEMENT_PORT/));
    expect(problems({ PORT: '3000', MANAGEMENT_PORT: '3000' })).toEqual([
      'MANAGEMENT_PORT must differ from PORT',
    ]);
  });
});
