import { nextCheckAt } from './upload-watch.processor';

describe('nextCheckAt', () => {
  const created = 1_000_000;
  const expires = created + 3_600_000;

  it('should check again soon right after the URL was handed out', () => {
    expect(nextCheckAt(created, expires, created + 10) - (created + 10)).toBe(100);
  });

  it('should back off to a quarter of the time waited, up to the maximum delay', () => {
    expect(nextCheckAt(created, expires, created + 2_000) - (created + 2_000)).toBe(500);
    expect(nextCheckAt(created, expires, created + 600_000) - (created + 600_000)).toBe(5_000);
  });

  it('should check once more exactly at the TTL', () => {
    expect(nextCheckAt(created, expires, expires - 10)).toBe(expires);
  });
});
