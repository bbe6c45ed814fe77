import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidEnvironmentError } from '@lib/config';
import { pgConnectionConfig } from './connection';

const URL = 'postgres://app:p%40ss@db.internal:5432/platform';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('pgConnectionConfig', () => {
  let dir: string;
  let caFile: string;
  let notPem: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pg-connection-'));
    caFile = join(dir, 'ca.pem');
    notPem = join(dir, 'ca.der');
    writeFileSync(caFile, PEM);
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01]));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should connect without TLS by default, the URL untouched', () => {
    const url = `${URL}?application_name=x&options=-c%20search_path%3Dy`;
    expect(pgConnectionConfig({ url })).toEqual({ connectionString: url, ssl: false });
    expect(pgConnectionConfig({ url: `${URL}?sslmode=disable` })).toEqual({
      connectionString: URL,
      ssl: false,
    });
  });

  it('should verify the server against the CA file, and only it', () => {
    const expected = { connectionString: URL, ssl: { ca: PEM, rejectUnauthorized: true } };
    expect(pgConnectionConfig({ url: URL, caFile })).toEqual(expected);
    expect(pgConnectionConfig({ url: `${URL}?sslmode=verify-full`, caFile })).toEqual(expected);
  });

  it('should verify the server against the public CAs with sslmode=verify-full alone', () => {
    expect(pgConnectionConfig({ url: `${URL}?sslmode=verify-full&application_name=x` })).toEqual({
      connectionString: `${URL}?application_name=x`,
      ssl: { rejectUnauthorized: true },
    });
  });

  it.each(['require', 'prefer', 'allow', 'verify-ca', 'no-verify'])(
    'should refuse sslmode=%s',
    (mode) => {
      expect(() => pgConnectionConfig({ url: `${URL}?sslmode=${mode}` })).toThrow(
        `DATABASE_URL: sslmode=${mode} not supported: use sslmode=verify-full`,
      );
    },
  );

  it.each([
    'ssl=true',
    'sslrootcert=/ca.pem',
    'sslcert=/c.pem',
    'sslkey=/k.pem',
    'uselibpqcompat=true',
  ])('should refuse %s in the URL', (param) => {
    expect(() => pgConnectionConfig({ url: `${URL}?sslmode=verify-full&${param}` })).toThrow(
      `DATABASE_URL: ${param.split('=')[0]} not supported: TLS is set by sslmode=verify-full and DATABASE_CA_FILE`,
    );
  });

  it('should refuse sslmode=disable with a CA file', () => {
    expect(() => pgConnectionConfig({ url: `${URL}?sslmode=disable`, caFile })).toThrow(
      'DATABASE_URL has sslmode=disable but DATABASE_CA_FILE asks for TLS',
    );
  });

  it('should say what is wrong with the CA file', () => {
    expect(() => pgConnectionConfig({ url: URL, caFile: join(dir, 'missing.pem') })).toThrow(
      `DATABASE_CA_FILE: cannot read ${join(dir, 'missing.pem')}: ENOENT`,
    );
    expect(() => pgConnectionConfig({ url: URL, caFile: notPem })).toThrow(
      `DATABASE_CA_FILE: ${notPem} holds no PEM certificate`,
    );
  });

  it('should not repeat a URL it cannot parse (it may hold a password)', () => {
    expect(() => pgConnectionConfig({ url: 'postgres://app:secret@' })).toThrow(
      new InvalidEnvironmentError(['DATABASE_URL is not a URL']),
    );
  });
});
