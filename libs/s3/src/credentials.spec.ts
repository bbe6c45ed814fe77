import { Logger } from '@nestjs/common';
import { InvalidEnvironmentError } from '@lib/config';
import {
  type AwsCredentials,
  type CredentialProvider,
  REFRESH_RETRY_MS,
  s3AccessKeys,
  s3CredentialProvider,
  SigningCredentials,
} from '@lib/s3';

const MINUTE = 60_000;
const T0 = new Date('2031-01-01T00:00:00Z').getTime();

/** Credentials of a role session `n`, expiring `lifetimeMs` after `from`. */
const session = (n: number, from: number, lifetimeMs: number): AwsCredentials => ({
  accessKeyId: `ASIA${n}`,
  secretAccessKey: `secret-${n}`,
  sessionToken: `token-${n}`,
  expiration: new Date(from + lifetimeMs),
});

/** Lets the provider's promise and the refresh's handlers run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SigningCredentials', () => {
  let now: number;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    now = T0;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('never fetches static keys again', async () => {
    const provider = jest.fn<ReturnType<CredentialProvider>, Parameters<CredentialProvider>>();
    provider.mockResolvedValue({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    const credentials = await SigningCredentials.load(provider);
    now += 365 * 24 * 60 * MINUTE;
    expect(credentials.current()).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('refreshes once, in the background, halfway through the credentials life', async () => {
    const provider = jest.fn<ReturnType<CredentialProvider>, Parameters<CredentialProvider>>();
    provider.mockResolvedValueOnce(session(1, T0, 60 * MINUTE));
    const credentials = await SigningCredentials.load(provider);

    now = T0 + 30 * MINUTE - 1;
    expect(credentials.current().sessionToken).toBe('token-1');
    expect(provider).toHaveBeenCalledTimes(1);

    provider.mockResolvedValueOnce(session(2, T0 + 30 * MINUTE, 60 * MINUTE));
    now = T0 + 30 * MINUTE;
    // Due: the current credentials serve while the new ones are fetched, one fetch however many URLs.
    for (let i = 0; i < 100; i++) expect(credentials.current().sessionToken).toBe('token-1');
    expect(provider).toHaveBeenCalledTimes(2);
    expect(provider).toHaveBeenLastCalledWith({ forceRefresh: true });
    await settle();
    expect(credentials.current().sessionToken).toBe('token-2');
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('refreshes short-lived credentials at least five minutes before they expire', async () => {
    const provider = jest.fn<ReturnType<CredentialProvider>, Parameters<CredentialProvider>>();
    provider.mockResolvedValueOnce(session(1, T0, 8 * MINUTE));
    const credentials = await SigningCredentials.load(provider);
    now = T0 + 3 * MINUTE - 1;
    credentials.current();
    expect(provider).toHaveBeenCalledTimes(1);
    provider.mockResolvedValueOnce(session(2, now, 60 * MINUTE));
    now = T0 + 3 * MINUTE;
    credentials.current();
    expect(provider).toHaveBeenCalledTimes(2);
  });

  it('keeps the current credentials when a refresh fails, and tries again later', async () => {
    const provider = jest.fn<ReturnType<CredentialProvider>, Parameters<CredentialProvider>>();
    provider.mockResolvedValueOnce(session(1, T0, 60 * MINUTE));
    const credentials = await SigningCredentials.load(provider);

    provider.mockRejectedValueOnce(new Error('connect ECONNREFUSED 169.254.170.23:80'));
    now = T0 + 30 * MINUTE;
    credentials.current();
    await settle();
    expect(warn).toHaveBeenCalledWith(
      'S3 credentials refresh failed (connect ECONNREFUSED 169.254.170.23:80); the current ones expire ' +
        `at 2031-01-01T01:00:00.000Z; retrying in ${REFRESH_RETRY_MS} ms`,
    );
    now += REFRESH_RETRY_MS - 1;
    expect(credentials.current().sessionToken).toBe('token-1');
    expect(provider).toHaveBeenCalledTimes(2);

    provider.mockResolvedValueOnce(session(2, now, 60 * MINUTE));
    now += 1;
    credentials.current();
    await settle();
    expect(credentials.current().sessionToken).toBe('token-2');
    expect(provider).toHaveBeenCalledTimes(3);
  });

  it('does not ask again at once when a refresh brings credentials already due for one', async () => {
    // A container endpoint serves the same credentials until it rotates them.
    const provider = jest.fn<ReturnType<CredentialProvider>, Parameters<CredentialProvider>>();
    provider.mockResolvedValue(session(1, T0, 60 * MINUTE));
    const credentials = await SigningCredentials.load(provider);
    now = T0 + 56 * MINUTE;
    credentials.current();
    await settle();
    credentials.current();
    expect(provider).toHaveBeenCalledTimes(2);
    now += REFRESH_RETRY_MS;
    credentials.current();
    expect(provider).toHaveBeenCalledTimes(3);
  });

  it('fails to load when the provider has no credentials', async () => {
    const provider = () =>
      Promise.reject(new Error('Could not load credentials from any providers'));
    await expect(SigningCredentials.load(provider)).rejects.toThrow(
      'no S3 credentials: neither S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY nor a role the AWS SDK ' +
        'default chain finds (Could not load credentials from any providers)',
    );
  });
});

describe('s3CredentialProvider', () => {
  it('answers the static keys of the settings', async () => {
    const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK' };
    const provider = s3CredentialProvider({
      region: 'r',
      bucket: 'b',
      forcePathStyle: true,
      credentials,
    });
    await expect(provider()).resolves.toEqual(credentials);
  });
});

describe('s3AccessKeys', () => {
  it('takes both keys or neither', () => {
    expect(s3AccessKeys('AK', 'SK')).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(s3AccessKeys(undefined, undefined)).toBeUndefined();
    expect(() => s3AccessKeys('AK', undefined)).toThrow(InvalidEnvironmentError);
    expect(() => s3AccessKeys(undefined, 'SK')).toThrow(
      'S3_ACCESS_KEY_ID must be set with S3_SECRET_ACCESS_KEY',
    );
  });
});
