import { sigv4 } from '@lib/s3';
import { type IncomingRequestParts, verifyRequest, type VerifyOptions } from './verify';

// The worked examples of AWS's SigV4 documentation for S3 (credentials AKIAIOSFODNN7EXAMPLE).
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const options = (now = '2013-05-24T00:00:00Z'): VerifyOptions => ({
  region: 'us-east-1',
  lookupSecret: (id) => (id === 'AKIAIOSFODNN7EXAMPLE' ? SECRET : undefined),
  keyCache: new sigv4.SigningKeyCache(),
  now: new Date(now),
});

const request = (
  method: string,
  url: string,
  headers: Record<string, string>,
): IncomingRequestParts => {
  const q = url.indexOf('?');
  return {
    method,
    rawPath: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers: new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]])),
  };
};

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html "GET Object"
const getObject = (overrides: Record<string, string> = {}) =>
  request('GET', '/test.txt', {
    Host: 'examplebucket.s3.amazonaws.com',
    Range: 'bytes=0-9',
    'x-amz-content-sha256': sigv4.EMPTY_SHA256,
    'x-amz-date': '20130524T000000Z',
    Authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    ...overrides,
  });

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
const PRESIGNED =
  '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
  '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
  '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

const code = (result: ReturnType<typeof verifyRequest>): string =>
  result.ok ? 'OK' : result.error.code;

describe('verifyRequest', () => {
  it("accepts AWS's documented header-signed GET Object request", () => {
    const result = verifyRequest(getObject(), options());
    expect(result.ok && result.payload).toEqual({ kind: 'sha256', hex: sigv4.EMPTY_SHA256 });
  });

  it("accepts AWS's documented presigned URL until it expires", () => {
    const req = request('GET', PRESIGNED, { host: 'examplebucket.s3.amazonaws.com' });
    expect(code(verifyRequest(req, options('2013-05-24T12:00:00Z')))).toBe('OK');
    const expired = verifyRequest(req, options('2013-05-25T00:00:01Z'));
    expect(expired.ok ? '' : `${expired.error.code}: ${expired.error.message}`).toBe(
      'AccessDenied: Request has expired',
    );
    const early = verifyRequest(req, options('2013-05-23T23:00:00Z'));
    expect(early.ok ? '' : early.error.message).toBe('Request is not valid yet');
  });

  it('refuses tampering, unknown keys, skew and malformed credentials with S3 error codes', () => {
    const o = options();
    expect(code(verifyRequest(getObject({ Range: 'bytes=0-10' }), o))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(verifyRequest({ ...getObject(), rawPath: '/test2.txt' }, o))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(verifyRequest({ ...getObject(), rawQuery: 'acl' }, o))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(verifyRequest(getObject(), options('2013-05-24T00:16:00Z')))).toBe(
      'RequestTimeTooSkewed',
    );
    const unknown = getObject({
      Authorization:
        getObject()
          .headers.get('authorization')?.[0]
          .replace('AKIAIOSFODNN7EXAMPLE', 'AKIDOTHER') ?? '',
    });
    expect(code(verifyRequest(unknown, o))).toBe('InvalidAccessKeyId');
    const otherRegion = getObject({
      Authorization:
        getObject().headers.get('authorization')?.[0].replace('us-east-1', 'eu-west-1') ?? '',
    });
    expect(code(verifyRequest(otherRegion, o))).toBe('AuthorizationHeaderMalformed');
    expect(code(verifyRequest(getObject({ 'x-amz-meta-extra': '1' }), o))).toBe('AccessDenied');
    expect(
      code(verifyRequest(getObject({ Authorization: 'AWS AKIAIOSFODNN7EXAMPLE:abc' }), o)),
    ).toBe('InvalidRequest');
    const anonymous = request('GET', '/test.txt', { host: 'examplebucket.s3.amazonaws.com' });
    expect(code(verifyRequest(anonymous, o))).toBe('AccessDenied');
    const both = request('GET', PRESIGNED, { host: 'x', authorization: 'AWS4-HMAC-SHA256 x' });
    expect(code(verifyRequest(both, o))).toBe('InvalidArgument');
  });

  it('refuses presigned URLs signed over headers the request lacks', () => {
    const req = request(
      'GET',
      PRESIGNED.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=content-type%3Bhost'),
      {
        host: 'examplebucket.s3.amazonaws.com',
      },
    );
    const result = verifyRequest(req, options());
    expect(result.ok ? {} : result.error.details).toMatchObject({
      SignedHeadersNotPresent: 'content-type',
    });
  });
});
