import { fileEtag, ifMatchHolds } from './org-file-views';

describe('ifMatchHolds', () => {
  const etag = fileEtag({ id: 'file_1', version: 3 });

  it('should hold when there is no If-Match header', () => {
    expect(ifMatchHolds(undefined, etag)).toBe(true);
    expect(ifMatchHolds(undefined, null)).toBe(true);
  });

  it('should hold when one of the listed ETags is the current one', () => {
    expect(ifMatchHolds(etag, etag)).toBe(true);
    expect(ifMatchHolds(`"other", ${etag}`, etag)).toBe(true);
  });

  it('should hold for * only when the entry exists', () => {
    expect(ifMatchHolds('*', etag)).toBe(true);
    expect(ifMatchHolds('*', null)).toBe(false);
  });

  it('should fail when the ETag is stale, weak or the entry is missing', () => {
    expect(ifMatchHolds(fileEtag({ id: 'file_1', version: 2 }), etag)).toBe(false);
    expect(ifMatchHolds(`W/${etag}`, etag)).toBe(false);
    expect(ifMatchHolds(etag, null)).toBe(false);
  });
});
