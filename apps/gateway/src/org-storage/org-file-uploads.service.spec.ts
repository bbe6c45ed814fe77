import type { Principal } from '@lib/auth';
import { ObjectMetadataClient } from '@lib/clients';
import { DomainException, ValidationFailedException } from '@lib/errors';
import type { ServiceClient } from '@lib/internal-http';
import type {
  IncomingFile,
  MultipartRequest,
  MultipartUploadOptions,
  ReceivedUpload,
  StreamingUploads,
} from '../uploads/streaming-uploads.service';
import { OrgFileUploads } from './org-file-uploads.service';

const principal: Principal = {
  orgId: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  orgKey: 'acme',
  userId: null,
  role: null,
  via: 'org_key',
  apiKeyId: 'f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60',
  capabilities: ['objects'],
};
const request = {} as MultipartRequest;
const RECORD = {
  file: {
    path: 'docs/q3.csv',
    etag: '"e.1"',
    name: 'q3.csv',
    sizeBytes: 3,
    contentType: 'text/csv',
  },
  created: true,
};

/** Streams nothing: calls `keyFor` as the file part begins, then answers what S3 would now hold. */
function fakeUploads(file: { filename: string; before: Record<string, string> }, after = {}) {
  const receiveMultipart = jest.fn(
    async (_r: MultipartRequest, _p: unknown, opts: MultipartUploadOptions) => {
      const incoming: IncomingFile = {
        filename: file.filename,
        mimetype: 'text/csv',
        fieldsBefore: file.before,
      };
      const key = await opts.keyFor(incoming);
      const up: ReceivedUpload = {
        key,
        sizeBytes: 3,
        etag: '"s3"',
        filename: file.filename,
        contentType: 'text/csv',
        fields: { ...file.before, ...after },
      };
      return up;
    },
  );
  const discardUnlessRecorded = jest.fn(async (_key: string, _err: unknown) => {});
  return { receiveMultipart, discardUnlessRecorded };
}

describe(OrgFileUploads.name, () => {
  let call: jest.Mock;

  beforeEach(() => {
    call = jest.fn().mockResolvedValue(RECORD);
  });

  const sut = (uploads: ReturnType<typeof fakeUploads>) =>
    new OrgFileUploads(
      new ObjectMetadataClient({ call } as unknown as ServiceClient),
      uploads as unknown as StreamingUploads,
    );

  it('should store under a fresh key of the org, then record the file in the canonical folder', async () => {
    const uploads = fakeUploads({ filename: 'q3.csv', before: { path: 'docs' } });
    await expect(sut(uploads).upload(principal, request, '"e.0"')).resolves.toEqual(RECORD);
    const key = (await uploads.receiveMultipart.mock.results[0].value).key as string;
    expect(key).toMatch(/^acme\/files\/[\w-]{32}$/);
    expect(call).toHaveBeenCalledWith('POST', '/internal/org-files/uploads', {
      principal: expect.objectContaining({ orgId: principal.orgId, orgKey: 'acme' }),
      body: {
        ifMatch: '"e.0"',
        path: 'docs',
        name: 'q3.csv',
        objectKey: key,
        sizeBytes: 3,
        s3Etag: '"s3"',
        contentType: 'text/csv',
      },
    });
    expect(uploads.discardUnlessRecorded).not.toHaveBeenCalled();
  });

  it('should record in the root without a path, and take a path sent after the file', async () => {
    await sut(fakeUploads({ filename: 'a.txt', before: {} })).upload(principal, request);
    expect(call.mock.calls[0][2].body.path).toBe('/');
    await sut(fakeUploads({ filename: 'a.txt', before: {} }, { path: 'late/x' })).upload(
      principal,
      request,
    );
    expect(call.mock.calls[1][2].body.path).toBe('late/x');
  });

  it.each([
    ['a bad file name', { filename: '../x', before: {} }, 'file'],
    ['a bad path before the file', { filename: 'a.txt', before: { path: '/abs' } }, 'path'],
  ])('should refuse %s with a 400 before storing anything', async (_, file, field) => {
    const uploads = fakeUploads(file);
    const refused = sut(uploads).upload(principal, request);
    await expect(refused).rejects.toBeInstanceOf(ValidationFailedException);
    await expect(refused).rejects.toMatchObject({ message: expect.stringContaining(field) });
    expect(call).not.toHaveBeenCalled();
    expect(uploads.discardUnlessRecorded).not.toHaveBeenCalled();
  });

  it('should refuse a bad path sent after the file with a 400 and clean up the stored bytes', async () => {
    const uploads = fakeUploads({ filename: 'a.txt', before: {} }, { path: 'a//b' });
    const refused = sut(uploads).upload(principal, request);
    await expect(refused).rejects.toBeInstanceOf(ValidationFailedException);
    expect(call).not.toHaveBeenCalled();
    const [key, err] = uploads.discardUnlessRecorded.mock.calls[0];
    expect(key).toMatch(/^acme\/files\//);
    expect(err).toBeInstanceOf(ValidationFailedException);
  });

  it('should clean up and rethrow when the record fails', async () => {
    const conflict = new DomainException(409, 'PATH_EXISTS', 'taken');
    call.mockRejectedValue(conflict);
    const uploads = fakeUploads({ filename: 'a.txt', before: { path: 'docs' } });
    await expect(sut(uploads).upload(principal, request)).rejects.toBe(conflict);
    expect(uploads.discardUnlessRecorded).toHaveBeenCalledWith(expect.any(String), conflict);
  });
});
