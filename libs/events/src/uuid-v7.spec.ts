import { uuidv7, uuidv7Time } from './uuid-v7';

describe('uuidv7', () => {
  it('should be an RFC 9562 version 7 UUID when generated', () => {
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('should embed the given millisecond timestamp when generated', () => {
    const ms = Date.UTC(2030, 0, 1);
    expect(uuidv7Time(uuidv7(ms))).toBeGreaterThanOrEqual(ms);
  });

  it('should be strictly increasing when many are generated in the same millisecond', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should stay increasing when the clock steps back', () => {
    const a = uuidv7(Date.now() + 120_000);
    const b = uuidv7(Date.now());
    expect(b > a).toBe(true);
  });
});
