import { S3RequestError, withS3Retries } from './retries';

describe('withS3Retries', () => {
  it('should retry a 5xx answer and return the first success', async () => {
    const send = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new S3RequestError('PUT', 'k', 503))
      .mockResolvedValueOnce('etag');
    await expect(withS3Retries(send)).resolves.toBe('etag');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('should not retry a 4xx answer', async () => {
    const send = jest
      .fn<Promise<string>, []>()
      .mockRejectedValue(new S3RequestError('HEAD', 'k', 403));
    await expect(withS3Retries(send)).rejects.toThrow('S3 HEAD k: status 403');
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('should give up after three attempts at a network error or an SDK 5xx', async () => {
    const network = jest.fn<Promise<string>, []>().mockRejectedValue(new Error('ECONNRESET'));
    await expect(withS3Retries(network)).rejects.toThrow('ECONNRESET');
    expect(network).toHaveBeenCalledTimes(3);
    const sdk = jest
      .fn<Promise<string>, []>()
      .mockRejectedValue(
        Object.assign(new Error('SlowDown'), { $metadata: { httpStatusCode: 429 } }),
      );
    await expect(withS3Retries(sdk)).rejects.toThrow('SlowDown');
    expect(sdk).toHaveBeenCalledTimes(3);
  });
});
