import { corsOriginsProblem, parseCorsOrigins } from './cors-origins';

describe('CORS_ALLOWED_ORIGINS', () => {
  it('should take comma-separated exact origins, spaces and duplicates aside', () => {
    expect(
      parseCorsOrigins(' https://app.example.com, http://127.0.0.1:5173,https://app.example.com '),
    ).toEqual(['https://app.example.com', 'http://127.0.0.1:5173']);
    expect(parseCorsOrigins('http://[::1]:8080')).toEqual(['http://[::1]:8080']);
  });

  it('should mean no origin when unset or empty', () => {
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(parseCorsOrigins('')).toEqual([]);
    expect(parseCorsOrigins(' , ')).toEqual([]);
    expect(corsOriginsProblem(undefined)).toBeUndefined();
  });

  it.each([
    ['*', /not wildcards/],
    ['https://*.example.com', /not wildcards/],
    ['app.example.com', /"app.example.com" is not one/],
    ['https://app.example.com/', /\("https:\/\/app.example.com"\)/],
    ['https://app.example.com/path', /is not one/],
    ['https://APP.example.com', /\("https:\/\/app.example.com"\)/],
    ['https://app.example.com:443', /\("https:\/\/app.example.com"\)/],
    ['https://user@app.example.com', /is not one/],
    ['ftp://files.example.com', /http or https/],
    ['null', /is not one/],
  ])('should refuse %s with a message naming the variable', (value, message) => {
    const problem = corsOriginsProblem(`https://ok.example.com,${value}`);
    expect(problem).toMatch(/^CORS_ALLOWED_ORIGINS /);
    expect(problem).toMatch(message);
    expect(() => parseCorsOrigins(value)).toThrow(/^CORS_ALLOWED_ORIGINS /);
  });
});
