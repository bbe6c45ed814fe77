/** S3 answered a request sent without the SDK (to a presigned URL) with an unexpected status. */
export class S3RequestError extends Error {
  constructor(
    method: string,
    key: string,
    readonly status: number,
  ) {
    super(`S3 ${method} ${key}: status ${status}`);
    this.name = 'S3RequestError';
  }
}

const S3_ATTEMPTS = 3;

/**
 * Calls `send` again after a failure, as the SDK retries its own calls (3 attempts, backoff), for the calls
 * it cannot retry itself: a request sent to a presigned URL with undici (an `S3RequestError`), or an SDK call
 * whose body is a stream it consumed (`send` makes a fresh one). Retried: network errors, 5xx and 429.
 */
export async function withS3Retries<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const status =
        err instanceof S3RequestError
          ? err.status
          : (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const retryable = status === undefined || status >= 500 || status === 429;
      if (attempt >= S3_ATTEMPTS || !retryable) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
