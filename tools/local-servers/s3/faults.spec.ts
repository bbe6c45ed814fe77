import { sigv4 } from '@lib/s3';
import { classifyRequest, FaultRegistry, type S3Operation } from './faults';

const classify = (method: string, url: string, copy = false) => {
  const [path, query = ''] = url.split('?');
  return classifyRequest(method, path, sigv4.parseRawQuery(query), copy);
};

describe('classifyRequest', () => {
  it.each<[string, string, boolean, S3Operation, string | undefined]>([
    ['PUT', '/b/a%20b/c.txt?x-id=PutObject', false, 'PUT', 'a b/c.txt'],
    ['PUT', '/b/copy?x-id=CopyObject', true, 'COPY', 'copy'],
    ['GET', '/b/k?x-id=GetObject', false, 'GET', 'k'],
    ['HEAD', '/b/k', false, 'HEAD', 'k'],
    ['DELETE', '/b/k?x-id=DeleteObject', false, 'DELETE', 'k'],
    ['GET', '/b/?list-type=2&prefix=org%2F1', false, 'LIST', 'org/1'],
    ['GET', '/b', false, 'LIST', ''],
    ['POST', '/b/?delete=', false, 'DELETE_OBJECTS', undefined],
    ['POST', '/b/big?uploads=', false, 'CREATE_MULTIPART', 'big'],
    ['PUT', '/b/big?partNumber=1&uploadId=abc&x-id=UploadPart', false, 'UPLOAD_PART', 'big'],
    ['POST', '/b/big?uploadId=abc', false, 'COMPLETE_MULTIPART', 'big'],
    ['DELETE', '/b/big?uploadId=abc&x-id=AbortMultipartUpload', false, 'ABORT_MULTIPART', 'big'],
    ['GET', '/b?location', false, 'BUCKET', undefined],
    ['HEAD', '/b', false, 'BUCKET', undefined],
    ['GET', '/', false, 'OTHER', undefined],
    ['PUT', '/b/k?tagging', false, 'OTHER', 'k'],
  ])('%s %s -> %s', (method, url, copy, operation, key) => {
    const target = classify(method, url, copy);
    expect(target.operation).toBe(operation);
    expect(target.key).toBe(key);
  });
});

describe('FaultRegistry', () => {
  it('matches on every given criterion, counts, and removes exhausted faults', () => {
    const registry = new FaultRegistry();
    const fault = registry.inject({ operation: 'PUT', keyPrefix: 'org/1/', status: 503, count: 2 });
    expect(registry.take(classify('PUT', '/b/org/2/x'))).toBeUndefined();
    expect(registry.take(classify('GET', '/b/org/1/x'))).toBeUndefined();
    expect(registry.take(classify('PUT', '/b/org/1/x'))?.status).toBe(503);
    expect(registry.take(classify('PUT', '/b/org/1/y'))?.status).toBe(503);
    expect(registry.take(classify('PUT', '/b/org/1/z'))).toBeUndefined();
    expect(fault.hits).toBe(2);
    expect(fault.active).toBe(false);
  });

  it('keeps unlimited faults until removed or cleared', () => {
    const registry = new FaultRegistry();
    const a = registry.inject({ method: 'get', status: 500 });
    registry.inject({ operation: ['HEAD', 'LIST'], bucket: 'b', status: 503 });
    for (let i = 0; i < 5; i++) expect(registry.take(classify('GET', '/b/k'))?.status).toBe(500);
    a.remove();
    expect(registry.take(classify('GET', '/b/k'))).toBeUndefined();
    expect(registry.take(classify('GET', '/b?list-type=2'))?.status).toBe(503);
    expect(registry.take(classify('HEAD', '/other/k'))).toBeUndefined();
    registry.clear();
    expect(registry.take(classify('HEAD', '/b/k'))).toBeUndefined();
  });

  it('rejects invalid specs', () => {
    const registry = new FaultRegistry();
    expect(() => registry.inject({ status: 404 as 500 })).toThrow(RangeError);
    expect(() => registry.inject({ status: 500, count: 0 })).toThrow(RangeError);
  });
});
