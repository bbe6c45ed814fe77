import { nextCheckAt } from './upload-watch.processor';

/** UPLOAD_WATCH_MAX_DELAY_MS's default. */
const MAX_DELAY_MS = 5_000;

describe('nextCheckAt', () => {
  const created = 1_000_000;
  const expires = created + 3_600_000;

  it('should check again soon right after the URL was handed out', () => {
    expect(nextCheckAt(created, expires, created + 10, MAX_DELAY_MS) - (created + 10)).toBe(100);
  });

  it('should back off to a quarter of the time waited, up to the maximum delay', () => {
    expect(nextCheckAt(created, expires, created + 2_000, MAX_DELAY_MS) - (created + 2_000)).toBe(
      500,
    );
    expect(
      nextCheckAt(created, expires, created + 600_000, MAX_DELAY_MS) - (created + 600_000),
    ).toBe(5_000);
  });

  it('should check once more exactly at the TTL', () => {
    expect(nextCheckAt(created, expires, expires - 10, MAX_DELAY_MS)).toBe(expires);
  });
});
