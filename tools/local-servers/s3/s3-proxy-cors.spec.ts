import { s3ProxyCors } from './s3-server';

describe(s3ProxyCors.name, () => {
  it('should give S3Proxy each origin as a regular expression matching it exactly', () => {
    const properties = s3ProxyCors(['http://127.0.0.1:5173', 'https://app.example.com']);
    expect(properties).toEqual({
      's3proxy.cors-allow-origins': 'http://127\\.0\\.0\\.1:5173 https://app\\.example\\.com',
      's3proxy.cors-allow-methods': 'GET HEAD PUT',
      's3proxy.cors-allow-headers': 'content-type',
      's3proxy.cors-exposed-headers': 'ETag Content-Disposition',
    });
    const [first] = properties['s3proxy.cors-allow-origins'].split(' ');
    expect(new RegExp(`^${first}$`).test('http://127.0.0.1:5173')).toBe(true);
    expect(new RegExp(`^${first}$`).test('http://127a0b0c1:5173')).toBe(false);
  });

  it('should leave CORS off without origins', () => {
    expect(s3ProxyCors([])).toEqual({});
  });
});
