import { Writable } from 'node:stream';
import { objectsApiKey, orgFileKey, runFileKey } from '@lib/contracts';
import { createLogger, unredactedChild } from './logger';
import { REDACTED, redactSecrets } from './redaction';

const OBJECT_ID = 'obj_0192b3c4d5e6f708192a3b4c5d6e7f80';
const SIGNATURE = 'a'.repeat(24) + 'f00d'.repeat(10);
/** The token of a key: its last segment, or the one before a run file's name. */
const tokenOf = (key: string) => {
  const segments = key.split('/');
  return segments[1] === 'workflows'
    ? segments[segments.length - 2]
    : segments[segments.length - 1];
};

describe(redactSecrets.name, () => {
  const keys = [
    ['an Objects API', objectsApiKey('acme', OBJECT_ID)],
    ['an org storage', orgFileKey('acme')],
    [
      'a run file',
      runFileKey('acme', 'wf_1', '0192b3c4-d5e6-7f70-8192-a3b4c5d6e7f8', 'outputs', 'report.pdf'),
    ],
  ];

  it.each(keys)('should blank the token of %s key wherever the key appears', (_kind, key) => {
    const token = tokenOf(key);
    const texts = [
      key,
      `http://s3:9000/platform/${key}?x-id=GetObject`,
      `/internal/bytes/stat?path=${encodeURIComponent(key)}`,
      `{"msg":"S3 upload of ${key} failed","err":{"stack":"Error: no ${key}\\n    at x"}}`,
    ];
    for (const text of texts) {
      const redacted = redactSecrets(text);
      expect(redacted).not.toContain(token);
      expect(redacted).toContain(REDACTED);
    }
    expect(redactSecrets(key)).toBe(key.replace(token, REDACTED));
  });

  it('should blank the values of credential query parameters, plain or URL-encoded', () => {
    const url =
      `http://s3:9000/platform/acme/files/x?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
      `&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request` +
      `&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2B%2Fabc%3D&X-Amz-Signature=${SIGNATURE}` +
      `&x-amz-signature=${SIGNATURE}`;
    expect(redactSecrets(url)).toBe(
      `http://s3:9000/platform/acme/files/x?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
        `&X-Amz-Credential=${REDACTED}&X-Amz-Security-Token=${REDACTED}` +
        `&X-Amz-Signature=${REDACTED}&x-amz-signature=${REDACTED}`,
    );
    expect(redactSecrets(`"url":"/api/v1/objects/download?objectKey=anything&type=inline"`)).toBe(
      `"url":"/api/v1/objects/download?objectKey=${REDACTED}&type=inline"`,
    );
    expect(redactSecrets('key=a%2Fb%26c=1')).toBe(`key=${REDACTED}%26c=1`);
    expect(redactSecrets('redirect=x%3FX-Amz-Signature%3Dabc%26y')).toBe(
      `redirect=x%3FX-Amz-Signature%3D${REDACTED}%26y`,
    );
  });

  it('should leave text without secrets as it is', () => {
    for (const text of [
      'request completed',
      '/api/private/storage/meta',
      'x=1&y=2%3D',
      `acme/files/${'x'.repeat(31)}`,
      `acme/files/${'x'.repeat(33)}`,
      `/objects/${OBJECT_ID}`,
    ]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe('log lines', () => {
  const written: string[] = [];
  const logger = createLogger({
    service: 'test',
    destination: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        written.push(chunk.toString());
        done();
      },
    }),
  });

  beforeEach(() => {
    written.length = 0;
  });

  it('should carry no object key or signature, whatever field, message or error quotes it', () => {
    const key = orgFileKey('acme');
    const url = `http://s3/platform/${key}?X-Amz-Signature=${SIGNATURE}`;
    logger.warn(`S3 upload of ${key} failed`);
    logger.error({ err: new Error(`no such key: ${key}`), url }, 'request failed');
    logger.info({ key, objectKey: key, job: { object_key: key, name: 'x' } }, 'fields');
    unredactedChild(logger).info({ path: `/x/${key}` }, 'request completed');

    expect(written).toHaveLength(4);
    for (const line of written) {
      expect(line).not.toContain(tokenOf(key));
      expect(line).not.toContain(SIGNATURE);
    }
    expect(JSON.parse(written[2])).toMatchObject({
      key: REDACTED,
      objectKey: REDACTED,
      job: { object_key: REDACTED, name: 'x' },
    });
  });
});
