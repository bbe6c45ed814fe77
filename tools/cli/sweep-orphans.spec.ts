import { InvalidEnvironmentError, validateEnv } from '@lib/config';
import { runSweepOrphans, SweepOrphansEnv } from './sweep-orphans';

const VALID = { DATABASE_URL: 'postgres://u@127.0.0.1:1/db', S3_BUCKET: 'platform' };

describe(SweepOrphansEnv.name, () => {
  const parse = validateEnv(SweepOrphansEnv);

  it('should default to a 10 % share and 1000 deletions at most', () => {
    expect(parse(VALID)).toMatchObject({ SWEEP_MAX_DELETE_RATIO: 0.1, SWEEP_MAX_DELETES: 1000 });
    expect(
      parse({ ...VALID, SWEEP_MAX_DELETE_RATIO: '0.25', SWEEP_MAX_DELETES: '0' }),
    ).toMatchObject({ SWEEP_MAX_DELETE_RATIO: 0.25, SWEEP_MAX_DELETES: 0 });
  });

  it.each([
    ['SWEEP_MAX_DELETE_RATIO', '1.5', /SWEEP_MAX_DELETE_RATIO must be a number from 0 to 1/],
    ['SWEEP_MAX_DELETE_RATIO', '-0.1', /SWEEP_MAX_DELETE_RATIO must be a number from 0 to 1/],
    ['SWEEP_MAX_DELETE_RATIO', '10%', /SWEEP_MAX_DELETE_RATIO must be a number from 0 to 1/],
    ['SWEEP_MAX_DELETES', '2.5', /SWEEP_MAX_DELETES must be a whole number from 0 to 1000000/],
    ['SWEEP_MAX_DELETES', '-1', /SWEEP_MAX_DELETES must be a whole number from 0 to 1000000/],
    ['OBJECT_MAX_BYTES', '0', /OBJECT_MAX_BYTES/],
    ['S3_BUCKET', '', /S3_BUCKET must be a valid bucket name/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres:\/\/ URL/],
  ])('should refuse %s=%s with a message naming it', (name, value, message) => {
    expect(() => parse({ ...VALID, [name]: value })).toThrow(message);
  });

  it('should refuse a bad setting before it connects to anything', async () => {
    await expect(
      runSweepOrphans(
        { olderThanMinutes: 120, delete: true },
        { ...VALID, SWEEP_MAX_DELETE_RATIO: '2' },
      ),
    ).rejects.toBeInstanceOf(InvalidEnvironmentError);
  });
});
