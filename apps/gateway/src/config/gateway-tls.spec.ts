import { testCertificate, type TestCertificate } from '@lib/testing';
import { gatewayTls } from './gateway-tls';

describe(gatewayTls.name, () => {
  let certificate: TestCertificate;
  beforeAll(async () => (certificate = await testCertificate()));
  afterAll(() => certificate.cleanup());

  it('should serve cleartext when neither file is set', () => {
    expect(gatewayTls({})).toBeUndefined();
    expect(gatewayTls({ certFile: ' ', keyFile: '' })).toBeUndefined();
  });

  it('should read a certificate and its key', () => {
    const tls = gatewayTls({
      certFile: certificate.certFile,
      keyFile: certificate.keyFile,
    });
    expect(tls?.cert.toString()).toBe(certificate.cert);
    expect(tls?.key.toString()).toContain('PRIVATE KEY');
  });

  it('should refuse one file without the other', () => {
    expect(() => gatewayTls({ certFile: certificate.certFile })).toThrow(/must be set together/);
  });

  it('should name a file it cannot read', () => {
    expect(() =>
      gatewayTls({
        certFile: certificate.certFile,
        keyFile: `${certificate.keyFile}.missing`,
      }),
    ).toThrow(/GATEWAY_TLS_KEY_FILE cannot be read \(ENOENT\)/);
  });

  it('should refuse a key file that holds no key', () => {
    expect(() =>
      gatewayTls({
        certFile: certificate.certFile,
        keyFile: certificate.certFile,
      }),
    ).toThrow(/must be a PEM certificate and its key/);
  });
});
