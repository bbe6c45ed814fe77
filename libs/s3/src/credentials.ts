import { Logger } from '@nestjs/common';
import type { S3Settings } from './settings';

/** AWS credentials, as the SDK's credential providers return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Set for temporary credentials (a role's): sent as `X-Amz-Security-Token`. */
  sessionToken?: string;
  /** When temporary credentials stop working; undefined for static keys. */
  expiration?: Date;
}

/**
 * A source of credentials, as the AWS SDK's providers are: each call may answer new ones. `forceRefresh`
 * asks a caching provider (the SDK's default chain) for fresh credentials instead of its cached ones.
 */
export type CredentialProvider = (options?: { forceRefresh?: boolean }) => Promise<AwsCredentials>;

/**
 * The credentials the platform signs S3 requests and URLs with: the static keys of the settings, else the
 * AWS SDK's default provider chain (the one an S3Client uses when given none): environment variables, web
 * identity (IRSA), the ECS / EKS Pod Identity container endpoint, EC2 instance metadata.
 */
export function s3CredentialProvider(settings: S3Settings): CredentialProvider {
  const keys = settings.credentials;
  if (keys !== undefined) return () => Promise.resolve(keys);
  // Loaded here rather than on import, as the SDK is (see createS3Client): static keys need none of it.
  type Chain = typeof import('@aws-sdk/credential-provider-node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as Chain;
  return defaultProvider();
}

/** Credentials are fetched again at most this long before they expire (the SDK's own margin). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Wait after a refresh that failed, or brought credentials already due for refresh, before the next. */
export const REFRESH_RETRY_MS = 10_000;

/**
 * The presigner's credentials: held in memory and read synchronously on every URL (a hot path), refreshed
 * in the background, one fetch at a time, before they expire: halfway through the life they had left when
 * fetched, and at least `REFRESH_MARGIN_MS` before their expiration. Until a refresh succeeds the current
 * credentials stay in use; a failed one is logged and tried again `REFRESH_RETRY_MS` later. Static keys
 * never expire and are never fetched again.
 */
export class SigningCredentials {
  private readonly logger = new Logger(SigningCredentials.name);
  private credentials: AwsCredentials;
  private refreshAt: number;
  private refreshing = false;

  /** Fetches the first credentials; rejects when the provider has none (the app then fails at boot). */
  static async load(provider: CredentialProvider): Promise<SigningCredentials> {
    let credentials: AwsCredentials;
    try {
      credentials = await provider();
    } catch (err) {
      throw new Error(
        'no S3 credentials: neither S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY nor a role the AWS SDK ' +
          `default chain finds (${(err as Error).message})`,
        { cause: err },
      );
    }
    return new SigningCredentials(provider, credentials);
  }

  private constructor(
    private readonly provider: CredentialProvider,
    credentials: AwsCredentials,
  ) {
    this.credentials = credentials;
    this.refreshAt = refreshTime(credentials, Date.now());
  }

  /** The credentials to sign with now; starts a refresh in the background when they are due for one. */
  current(): AwsCredentials {
    if (Date.now() >= this.refreshAt) this.refresh();
    return this.credentials;
  }

  private refresh(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.provider({ forceRefresh: true })
      .then(
        (credentials) => {
          const now = Date.now();
          this.credentials = credentials;
          this.refreshAt = Math.max(refreshTime(credentials, now), now + REFRESH_RETRY_MS);
        },
        (err: unknown) => {
          this.refreshAt = Date.now() + REFRESH_RETRY_MS;
          this.logger.warn(
            `S3 credentials refresh failed (${(err as Error).message}); the current ones expire at ` +
              `${this.credentials.expiration?.toISOString()}; retrying in ${REFRESH_RETRY_MS} ms`,
          );
        },
      )
      .finally(() => {
        this.refreshing = false;
      });
  }
}

/** When to fetch new credentials: halfway through their remaining life, at least the margin before expiry. */
function refreshTime(credentials: AwsCredentials, fetchedAt: number): number {
  if (credentials.expiration === undefined) return Infinity;
  const expiresAt = credentials.expiration.getTime();
  return Math.min(fetchedAt + (expiresAt - fetchedAt) / 2, expiresAt - REFRESH_MARGIN_MS);
}
