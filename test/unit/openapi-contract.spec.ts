import { join } from 'node:path';
import { OpenApiContract } from '../support/openapi-contract';

const DOCUMENT = join(__dirname, '..', '..', 'docs', 'api', 'objects-api.openapi.json');

const view = {
  id: 'obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f',
  name: 'a.txt',
  state: 'READ_ONLY',
  size_bytes: 5,
  content_type: 'text',
  create_time_ms: 1_764_000_000_000,
  delete_after_time_ms: null,
  metadata: { team: 'a' },
};

const error = { error: { code: 'NOT_FOUND', message: 'object x not found', requestId: 'r1' } };

describe(OpenApiContract.name, () => {
  const sut = OpenApiContract.load(DOCUMENT, {
    generalErrorStatuses: [400, 401, 403],
    extensions: [
      {
        method: 'post',
        path: '/v1/objects/{id}/publish',
        operationId: 'publishObject',
        responses: { 200: 'ObjectView', 404: null },
      },
    ],
  });
  const get = (status: number, body: unknown, path = `/v1/objects/${view.id}`) =>
    sut.problems('GET', path, status, body);

  it('should accept a seed ObjectView when every field has its type', () => {
    expect(get(200, view)).toEqual([]);
    expect(get(200, { ...view, size_bytes: null, metadata: null, upload_url: null })).toEqual([]);
  });

  it.each([
    ['an unknown field', { ...view, extra: 1 }],
    ['a missing required field', { ...view, name: undefined }],
    ['null where the document has no nullable', { ...view, name: null }],
    ['a fraction for an int64', { ...view, size_bytes: 1.5 }],
    ['a string for an integer', { ...view, create_time_ms: '1' }],
    ['a value outside the enum', { ...view, state: 'GONE' }],
    ['metadata that is not string to string', { ...view, metadata: { a: 1 } }],
  ])('should refuse an ObjectView with %s', (_what, body) => {
    expect(get(200, JSON.parse(JSON.stringify(body)))).not.toEqual([]);
  });

  it('should match literal paths before parameters', () => {
    expect(sut.operationOf('GET', '/v1/objects/list_public?limit=1')?.operationId).toBe(
      'listPublicObjects',
    );
    expect(sut.operationOf('GET', '/v1/objects/metadata/keys')?.operationId).toBe(
      'getObjectMetadataKeys',
    );
    expect(sut.operationOf('GET', `/v1/objects/${view.id}`)?.operationId).toBe('getObject');
  });

  it('should validate list views with and without total_count', () => {
    const list = { objects: [view], has_more: false };
    expect(get(200, list, '/v1/objects')).toEqual([]);
    expect(get(200, { ...list, total_count: 1 }, '/v1/objects')).toEqual([]);
    expect(get(200, { ...list, total_count: 2 ** 31 }, '/v1/objects')).not.toEqual([]);
  });

  it('should require the error body on documented and general error statuses', () => {
    expect(get(404, error)).toEqual([]);
    expect(get(400, error)).toEqual([]);
    expect(get(404, { message: 'nope' })).not.toEqual([]);
  });

  it('should report a status the operation does not document', () => {
    expect(get(409, error)).toEqual([
      expect.stringContaining('getObject (GET /v1/objects/{id}) → 409: status not documented'),
    ]);
  });

  it('should validate extension operations with the schema they name', () => {
    expect(sut.problems('POST', `/v1/objects/${view.id}/publish`, 200, view)).toEqual([]);
    expect(sut.problems('POST', `/v1/objects/${view.id}/publish`, 200, {})).not.toEqual([]);
    expect(sut.checked).toContain('publishObject 200');
  });

  it('should accept error statuses allowed for one operation only', () => {
    const strict = OpenApiContract.load(DOCUMENT);
    expect(strict.problems('GET', '/v1/objects?limit=0', 400, error)).not.toEqual([]);
    strict.allowErrorStatuses('listObjects', [400, 413]);
    expect(strict.problems('GET', '/v1/objects?limit=0', 400, error)).toEqual([]);
    expect(strict.problems('GET', '/v1/objects?limit=0', 400, { message: 'no' })).not.toEqual([]);
    expect(strict.problems('GET', `/v1/objects/${view.id}`, 400, error)).not.toEqual([]);
    expect(() => strict.allowErrorStatuses('noSuchOperation', [400])).toThrow('noSuchOperation');
  });
});
