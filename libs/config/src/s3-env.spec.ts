import { WithS3 } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

class S3OnlyEnv extends WithS3(class {}) {}
const validate = validateEnv(S3OnlyEnv);
const base = { S3_BUCKET: 'platform' };

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

describe('WithS3 static keys', () => {
  it('should take both, or neither (the AWS default chain)', () => {
    const keys = { S3_ACCESS_KEY_ID: 'AKID', S3_SECRET_ACCESS_KEY: 'secret-key' };
    expect(validate({ ...base, ...keys })).toMatchObject(keys);
    const env = validate({ ...base, S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '' });
    expect([env.S3_ACCESS_KEY_ID, env.S3_SECRET_ACCESS_KEY]).toEqual([undefined, undefined]);
  });

  it('should name the missing key when only one is set', () => {
    const why = "(both, or neither for the AWS SDK's default credential chain)";
    expect(problems({ ...base, S3_ACCESS_KEY_ID: 'AKID' })).toEqual([
      `S3_SECRET_ACCESS_KEY must be set with S3_ACCESS_KEY_ID ${why}`,
    ]);
    expect(problems({ ...base, S3_SECRET_ACCESS_KEY: 'secret-key' })).toEqual([
      `S3_ACCESS_KEY_ID must be set with S3_SECRET_ACCESS_KEY ${why}`,
    ]);
  });

  it('should refuse keys too short to be real', () => {
    expect(problems({ ...base, S3_ACCESS_KEY_ID: 'AK', S3_SECRET_ACCESS_KEY: 'short' })).toEqual([
      'S3_ACCESS_KEY_ID must be at least 3 characters',
      'S3_SECRET_ACCESS_KEY must be at least 8 characters',
    ]);
  });
});
