import type { Principal } from '@lib/auth';
import { FlowOrchestratorClient, ObjectMetadataClient } from '@lib/clients';
import { FLOW_LIMITS } from '@lib/contracts';
import { DomainException, ValidationFailedException } from '@lib/errors';
import type { ServiceClient } from '@lib/internal-http';
import { RunInputUploads } from './run-input-uploads.service';
import type {
  MultipartRequest,
  MultipartUploadOptions,
  ReceivedUpload,
  StreamingUploads,
} from './streaming-uploads.service';

const principal: Principal = {
  orgId: '0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  orgKey: 'acme',
  userId: null,
  role: null,
  via: 'api_key',
  apiKeyId: 'f4b7a0c2-8d7e-4e35-9d1a-1b2c3d4e5f60',
  capabilities: ['objects'],
};
const request = {} as MultipartRequest;
const WF = '7d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d';

/** Streams nothing: calls `keyFor` as the file part begins, then answers what S3 would now hold. */
function fakeUploads(filename: string, fieldsBefore: Record<string, string>) {
  const receiveMultipart = jest.fn(
    async (_r: MultipartRequest, _p: unknown, opts: MultipartUploadOptions) => {
      const key = await opts.keyFor({ filename, mimetype: 'text/plain', fieldsBefore });
      const up: ReceivedUpload = {
        key,
        sizeBytes: 5,
        etag: '"s3"',
        filename,
        contentType: 'text/plain',
        fields: fieldsBefore,
      };
      return up;
    },
  );
  const discardUnlessRecorded = jest.fn(async (_key: string, _err: unknown) => {});
  return { receiveMultipart, discardUnlessRecorded };
}

describe(RunInputUploads.name, () => {
  let flows: jest.Mock;
  let metadata: jest.Mock;

  beforeEach(() => {
    flows = jest.fn().mockResolvedValue({});
    metadata = jest.fn().mockResolvedValue({});
  });

  const sut = (uploads: ReturnType<typeof fakeUploads>) =>
    new RunInputUploads(
      new FlowOrchestratorClient({ call: flows } as unknown as ServiceClient),
      new ObjectMetadataClient({ call: metadata } as unknown as ServiceClient),
      uploads as unknown as StreamingUploads,
    );

  describe('toWorkflow', () => {
    it('should store under a run-file key of the workflow, record it and answer its URI', async () => {
      const uploads = fakeUploads('notes.txt', { workflow_id: WF });
      const view = await sut(uploads).toWorkflow(principal, request);
      expect(view).toEqual({
        objectKey: expect.stringMatching(
          new RegExp(
            `^acme/workflows/${WF}/runs/${FLOW_LIMITS.directUploadRunId}/inputs/.+/notes.txt$`,
          ),
        ),
        uri: `workflow://${WF}/uploads/notes.txt`,
        workflowId: WF,
        filename: 'notes.txt',
        sizeBytes: 5,
        contentType: 'text/plain',
      });
      expect(flows).toHaveBeenCalledWith('GET', `/internal/workflows/${WF}`, expect.anything());
      expect(metadata).toHaveBeenCalledWith('POST', '/internal/run-files', {
        principal: expect.objectContaining({ orgKey: 'acme' }),
        body: expect.objectContaining({
          workflowId: WF,
          objectKey: view.objectKey,
          edge: 'upload',
        }),
      });
    });

    it.each([
      ['no workflow_id before the file', 'x.txt', {}, 'workflow_id'],
      ['a file name that is not one path segment', 'a/b.txt', { workflow_id: WF }, 'filename'],
    ])('should refuse %s with a 400 before storing anything', async (_, name, fields, word) => {
      const uploads = fakeUploads(name, fields);
      const refused = sut(uploads).toWorkflow(principal, request);
      await expect(refused).rejects.toBeInstanceOf(ValidationFailedException);
      await expect(refused).rejects.toMatchObject({ message: expect.stringContaining(word) });
      expect(flows).not.toHaveBeenCalled();
      expect(metadata).not.toHaveBeenCalled();
    });

    it('should clean up and rethrow when the record fails', async () => {
      const quota = new DomainException(403, 'QUOTA_EXCEEDED', 'quota');
      metadata.mockRejectedValue(quota);
      const uploads = fakeUploads('x.txt', { workflow_id: WF });
      await expect(sut(uploads).toWorkflow(principal, request)).rejects.toBe(quota);
      expect(uploads.discardUnlessRecorded).toHaveBeenCalledWith(expect.any(String), quota);
    });
  });

  describe('toWaitingEdge', () => {
    it('should store under the key flow-orchestrator names, then complete the edge', async () => {
      flows.mockResolvedValueOnce({ objectKey: 'acme/workflows/w/runs/r/inputs/t/in.jpg' });
      flows.mockResolvedValueOnce({ ID: 'r', Status: 'RUNNING' });
      const uploads = fakeUploads('p.jpg', {});
      await expect(sut(uploads).toWaitingEdge(principal, request, 'r', 'a b')).resolves.toEqual({
        ID: 'r',
        Status: 'RUNNING',
      });
      expect(await uploads.receiveMultipart.mock.results[0].value).toMatchObject({
        key: 'acme/workflows/w/runs/r/inputs/t/in.jpg',
      });
      const edge = '/internal/runs/r/edges/a%20b';
      expect(flows).toHaveBeenNthCalledWith(1, 'GET', edge, expect.anything());
      expect(flows).toHaveBeenNthCalledWith(2, 'POST', `${edge}/complete`, expect.anything());
      expect(flows).toHaveBeenCalledTimes(2);
    });
  });
});
