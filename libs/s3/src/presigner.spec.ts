import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  type AwsCredentials,
  createS3Client,
  Presigner,
  presignedUrlExpiry,
  s3CredentialProvider,
  type S3Settings,
  SigningCredentials,
  sigv4,
} from '@lib/s3';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/** A Presigner over the settings' static keys. */
async function presignerFor(settings: S3Settings): Promise<Presigner> {
  return new Presigner(settings, await SigningCredentials.load(s3CredentialProvider(settings)));
}

const settingsCases: Array<[string, S3Settings]> = [
  [
    'path-style local endpoint with port',
    {
      credentials,
      endpoint: 'http://127.0.0.1:4568',
      region: 'us-east-1',
      bucket: 'platform-test',
      forcePathStyle: true,
    },
  ],
  [
    'path-style https endpoint with a base path',
    {
      credentials,
      endpoint: 'https://s3.example.com/base/path',
      region: 'eu-west-1',
      bucket: 'files',
      forcePathStyle: true,
    },
  ],
  [
    'virtual-hosted custom endpoint',
    {
      credentials,
      endpoint: 'https://s3.example.com',
      region: 'eu-west-1',
      bucket: 'my-bucket',
      forcePathStyle: false,
    },
  ],
  [
    'custom http endpoint with port and dotted bucket falls back to path-style',
    {
      credentials,
      endpoint: 'http://minio.local:9000',
      region: 'eu-central-1',
      bucket: 'my.dotted.bucket',
      forcePathStyle: false,
    },
  ],
  [
    'dotted bucket over https falls back to path-style',
    {
      credentials,
      endpoint: 'https://s3.example.com',
      region: 'eu-west-1',
      bucket: 'my.dotted.bucket',
      forcePathStyle: false,
    },
  ],
  [
    'IP endpoint without forcePathStyle uses path-style',
    {
      credentials,
      endpoint: 'http://10.1.2.3:9000',
      region: 'us-east-1',
      bucket: 'bucket',
      forcePathStyle: false,
    },
  ],
  [
    'AWS regional endpoint, virtual-hosted',
    { credentials, region: 'eu-west-1', bucket: 'aws-bucket', forcePathStyle: false },
  ],
  [
    'AWS endpoint with a dotted bucket falls back to path-style',
    {
      credentials,
      region: 'ap-southeast-2',
      bucket: 'dotted.aws.bucket',
      forcePathStyle: false,
    },
  ],
  [
    'virtual-hosted http endpoint with port',
    {
      credentials,
      endpoint: 'http://minio.local:9000',
      region: 'us-east-1',
      bucket: 'uploads-1',
      forcePathStyle: false,
    },
  ],
  [
    'AWS us-east-1 endpoint, path-style',
    { credentials, region: 'us-east-1', bucket: 'aws-bucket', forcePathStyle: true },
  ],
];

const keys = [
  'simple.txt',
  'a b+c/ü.txt',
  'org/123/nested/deep/file name (1).bin',
  'unicode/日本語/файл 😀.png',
  'special !\'()*~@#$&=;:,?[]{}%^`|\\<>".txt',
  '/leading-slash',
  'trailing/',
  'double//slash',
  'tab\tand\nnewline',
  'plus+plus and%20literal',
];

const dates = [new Date('2025-01-02T03:04:05Z'), new Date('2030-12-31T23:59:59.999Z')];

async function sdkGet(
  client: S3Client,
  bucket: string,
  key: string,
  expiresIn: number,
  signingDate: Date,
  disposition?: string,
  contentType?: string,
  cacheControl?: string,
): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: key,
    ResponseCacheControl: cacheControl,
    ResponseContentDisposition: disposition,
    ResponseContentType: contentType,
  });
  return getSignedUrl(client, command, { expiresIn, signingDate });
}

describe('Presigner', () => {
  describe.each(settingsCases)('%s', (_name, settings) => {
    let presigner: Presigner;
    const client = createS3Client(settings);
    beforeAll(async () => {
      presigner = await presignerFor(settings);
    });
    afterAll(() => client.destroy());

    it.each(keys)('GET URL for %j equals the SDK one', async (key) => {
      for (const date of dates) {
        for (const expires of [1, 900, 604_800]) {
          const ours = presigner.presignGet(key, { expiresInSeconds: expires, signingDate: date });
          expect(ours).toBe(await sdkGet(client, settings.bucket, key, expires, date));
        }
      }
    });

    it.each(keys)('GET URL with response overrides for %j equals the SDK one', async (key) => {
      const date = dates[0];
      const overrides: Array<[string | undefined, string | undefined, string | undefined]> = [
        ['attachment; filename="report 2025.pdf"', undefined, undefined],
        [undefined, 'text/plain; charset=utf-8', undefined],
        [undefined, undefined, 'private, no-store'],
        [
          `attachment; filename*=UTF-8''${encodeURIComponent('ü b+c.txt')}`,
          'application/pdf',
          'private, no-store',
        ],
        ['inline; filename="quote\'s & stuff!*().txt"', 'image/png', 'max-age=0'],
      ];
      for (const [disposition, contentType, cacheControl] of overrides) {
        const ours = presigner.presignGet(key, {
          expiresInSeconds: 300,
          signingDate: date,
          responseCacheControl: cacheControl,
          responseContentDisposition: disposition,
          responseContentType: contentType,
        });
        const sdk = await sdkGet(
          client,
          settings.bucket,
          key,
          300,
          date,
          disposition,
          contentType,
          cacheControl,
        );
        expect(ours).toBe(sdk);
      }
    });

    it.each(keys)(
      'PUT URL for %j equals the SDK one (with or without ContentType)',
      async (key) => {
        for (const date of dates) {
          const ours = presigner.presignPut(key, { expiresInSeconds: 900, signingDate: date });
          const plain = await getSignedUrl(
            client,
            new PutObjectCommand({ Bucket: settings.bucket, Key: key }),
            {
              expiresIn: 900,
              signingDate: date,
            },
          );
          expect(ours).toBe(plain);
          // The SDK's presigner never signs content-type: the same URL serves typed uploads.
          const typed = await getSignedUrl(
            client,
            new PutObjectCommand({ Bucket: settings.bucket, Key: key, ContentType: 'image/png' }),
            { expiresIn: 900, signingDate: date },
          );
          expect(ours).toBe(typed);
        }
      },
    );

    it.each(keys)('UploadPart URL for %j equals the SDK one', async (key) => {
      const uploadId = 'VXBsb2FkIElE+/=~x';
      for (const date of dates) {
        const ours = presigner.presignUploadPart(key, uploadId, 7, {
          expiresInSeconds: 300,
          signingDate: date,
        });
        const sdk = await getSignedUrl(
          client,
          new UploadPartCommand({
            Bucket: settings.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: 7,
          }),
          { expiresIn: 300, signingDate: date },
        );
        expect(ours).toBe(sdk);
      }
    });

    it.each(keys)('HEAD URL for %j equals the SDK one', async (key) => {
      for (const date of dates) {
        const ours = presigner.presignHead(key, { expiresInSeconds: 60, signingDate: date });
        const sdk = await getSignedUrl(
          client,
          new HeadObjectCommand({ Bucket: settings.bucket, Key: key }),
          { expiresIn: 60, signingDate: date },
        );
        expect(ours).toBe(sdk);
      }
    });
  });

  it('uses publicEndpoint for the URL and the signed host, the endpoint for internal requests', async () => {
    const settings: S3Settings = {
      credentials,
      endpoint: 'http://minio.storage.svc.cluster.local:9000',
      publicEndpoint: 'https://files.example.com',
      region: 'eu-west-1',
      bucket: 'platform',
      forcePathStyle: true,
    };
    const ours = (await presignerFor(settings)).presignGet('a/b.txt', {
      expiresInSeconds: 60,
      signingDate: dates[0],
    });
    expect(ours.startsWith('https://files.example.com/platform/a/b.txt?')).toBe(true);

    // The SDK signs for whatever endpoint its client has: give it the public one.
    const publicClient = createS3Client({ ...settings, endpoint: settings.publicEndpoint });
    try {
      expect(ours).toBe(await sdkGet(publicClient, 'platform', 'a/b.txt', 60, dates[0]));
    } finally {
      publicClient.destroy();
    }
    const signing = await SigningCredentials.load(s3CredentialProvider(settings));
    const internal = Presigner.internal(settings, signing).presignHead('a/b.txt', {
      expiresInSeconds: 60,
    });
    expect(
      internal.startsWith('http://minio.storage.svc.cluster.local:9000/platform/a/b.txt?'),
    ).toBe(true);
  });

  it('signs only the host header with an unsigned payload', async () => {
    const settings = settingsCases[0][1];
    const url = new URL((await presignerFor(settings)).presignPut('k', { expiresInSeconds: 60 }));
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Content-Sha256')).toBe('UNSIGNED-PAYLOAD');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request$/,
    );
  });

  it('rejects invalid expiries and empty keys', async () => {
    const presigner = await presignerFor(settingsCases[0][1]);
    for (const expiresInSeconds of [0, -1, 1.5, 604_801, Number.NaN]) {
      expect(() => presigner.presignGet('k', { expiresInSeconds })).toThrow(RangeError);
    }
    expect(() => presigner.presignPut('', { expiresInSeconds: 60 })).toThrow(RangeError);
  });

  describe('with temporary credentials', () => {
    const settings = settingsCases[0][1];
    const now = new Date('2031-05-06T07:08:09.500Z');
    const temporary = (expiresInMs: number): AwsCredentials => ({
      ...credentials,
      // Tokens hold characters that need encoding (STS tokens are base64).
      sessionToken: 'FwoGZXIvYXdzE+k/IQoJb3JpZ2lu=token',
      expiration: new Date(now.getTime() + expiresInMs),
    });
    const presignerWith = async (c: AwsCredentials) =>
      new Presigner(settings, await SigningCredentials.load(() => Promise.resolve(c)));
    const expires = (url: string) => Number(new URL(url).searchParams.get('X-Amz-Expires'));

    beforeEach(() => {
      jest.spyOn(Date, 'now').mockReturnValue(now.getTime());
    });
    afterEach(() => jest.restoreAllMocks());

    it('adds X-Amz-Security-Token to GET, PUT and HEAD URLs, as the SDK does', async () => {
      const c = temporary(86_400_000);
      const presigner = await presignerWith(c);
      const client = new S3Client({
        region: settings.region,
        endpoint: settings.endpoint,
        forcePathStyle: true,
        credentials: c,
        // As createS3Client's clients (which take static keys only).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      try {
        const options = { expiresIn: 900, signingDate: now };
        const get = presigner.presignGet('a b/ü.txt', { expiresInSeconds: 900 });
        expect(new URL(get).searchParams.get('X-Amz-Security-Token')).toBe(c.sessionToken);
        expect(get).toBe(
          await getSignedUrl(
            client,
            new GetObjectCommand({ Bucket: settings.bucket, Key: 'a b/ü.txt' }),
            options,
          ),
        );
        expect(presigner.presignPut('k', { expiresInSeconds: 900 })).toBe(
          await getSignedUrl(
            client,
            new PutObjectCommand({ Bucket: settings.bucket, Key: 'k' }),
            options,
          ),
        );
        expect(presigner.presignHead('k', { expiresInSeconds: 900 })).toBe(
          await getSignedUrl(
            client,
            new HeadObjectCommand({ Bucket: settings.bucket, Key: 'k' }),
            options,
          ),
        );
      } finally {
        client.destroy();
      }
    });

    it('clamps X-Amz-Expires to the credentials expiration', async () => {
      // Signed at 07:08:09 (X-Amz-Date drops the .5 s); the credentials expire 120.9 s after `now`.
      const presigner = await presignerWith(temporary(120_900));
      expect(expires(presigner.presignGet('k', { expiresInSeconds: 3600 }))).toBe(121);
      expect(expires(presigner.presignPut('k', { expiresInSeconds: 3600 }))).toBe(121);
      expect(expires(presigner.presignHead('k', { expiresInSeconds: 60 }))).toBe(60);
      const signedAt = new Date('2031-05-06T07:08:09.000Z').getTime();
      const url = presigner.presignGet('k', { expiresInSeconds: 3600 });
      expect(signedAt + expires(url) * 1000).toBeLessThanOrEqual(now.getTime() + 120_900);
    });

    it('tells when a URL expires, clamped or not', async () => {
      const presigner = await presignerWith(temporary(120_900));
      expect(presignedUrlExpiry(presigner.presignPut('k', { expiresInSeconds: 3600 }))).toEqual(
        new Date('2031-05-06T07:10:10Z'),
      );
      expect(presignedUrlExpiry(presigner.presignGet('k', { expiresInSeconds: 60 }))).toEqual(
        new Date('2031-05-06T07:09:09Z'),
      );
      expect(() => presignedUrlExpiry('https://example.com/k?X-Amz-Expires=60')).toThrow(
        RangeError,
      );
    });

    it('refuses to sign with credentials that have expired', async () => {
      const presigner = await presignerWith(temporary(400));
      expect(() => presigner.presignGet('k', { expiresInSeconds: 60 })).toThrow(
        'S3 credentials expired at 2031-05-06T07:08:09.900Z: no URL can be signed',
      );
    });
  });
});

describe('sigv4 primitives', () => {
  // The worked example of AWS's S3 documentation ("Example: GET Object", header-based auth).
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
  it('reproduces the documented GET Object example signature', () => {
    const headers: Record<string, string> = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': sigv4.EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
    };
    const { canonical, signedHeaders } = sigv4.canonicalHeaders(Object.keys(headers), (n) =>
      headers[n] === undefined ? undefined : [headers[n]],
    );
    const request = sigv4.canonicalRequest({
      method: 'GET',
      canonicalUri: sigv4.canonicalObjectPath('', 'test.txt'),
      canonicalQuery: '',
      canonicalHeaders: canonical,
      signedHeaders,
      payloadHash: sigv4.EMPTY_SHA256,
    });
    const scope = sigv4.credentialScope('20130524', 'us-east-1', 's3');
    const key = sigv4.deriveSigningKey(
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '20130524',
      'us-east-1',
      's3',
    );
    expect(sigv4.signature(key, sigv4.stringToSign('20130524T000000Z', scope, request))).toBe(
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('reproduces the documented presigned URL example signature', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    const query = sigv4.canonicalQueryString([
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request'],
      ['X-Amz-Date', '20130524T000000Z'],
      ['X-Amz-Expires', '86400'],
      ['X-Amz-SignedHeaders', 'host'],
    ]);
    const request = sigv4.canonicalRequest({
      method: 'GET',
      canonicalUri: '/test.txt',
      canonicalQuery: query,
      canonicalHeaders: 'host:examplebucket.s3.amazonaws.com\n',
      signedHeaders: 'host',
      payloadHash: sigv4.UNSIGNED_PAYLOAD,
    });
    const scope = sigv4.credentialScope('20130524', 'us-east-1', 's3');
    const cache = new sigv4.SigningKeyCache();
    const key = cache.get(
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '20130524',
      'us-east-1',
      's3',
    );
    expect(
      cache.get('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3'),
    ).toBe(key);
    expect(sigv4.signature(key, sigv4.stringToSign('20130524T000000Z', scope, request))).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('canonicalizes raw paths and queries regardless of the client encoding', () => {
    expect(sigv4.canonicalUriFromRawPath('/b/a%20b%2bc/%7E~/%C3%BC')).toBe(
      '/b/a%20b%2Bc/~~/%C3%BC',
    );
    expect(sigv4.canonicalUriFromRawPath("/b/(x)!*'")).toBe('/b/%28x%29%21%2A%27');
    expect(sigv4.canonicalUriFromRawPath('/b/a%2Fb//c')).toBe('/b/a%2Fb//c');
    expect(sigv4.canonicalQueryString(sigv4.parseRawQuery('b=2&a=%7e&uploads&a=1'))).toBe(
      'a=1&a=~&b=2&uploads=',
    );
    expect(() => sigv4.canonicalUriFromRawPath('/b/%E0%A4%A')).toThrow(URIError);
  });

  it('formats and parses amz dates', () => {
    expect(sigv4.toAmzDate(new Date('2025-01-02T03:04:05.678Z'))).toBe('20250102T030405Z');
    expect(sigv4.parseAmzDate('20250102T030405Z')?.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(sigv4.parseAmzDate('2025-01-02T03:04:05Z')).toBeUndefined();
    expect(sigv4.parseAmzDate('20251302T030405Z')).toBeUndefined();
  });
});
