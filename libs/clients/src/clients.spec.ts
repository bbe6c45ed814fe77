import type { ServicePrincipal } from '@lib/contracts';
import { DomainException } from '@lib/errors';
import type { ServiceClient } from '@lib/internal-http';
import { FlowOrchestratorClient } from './flow-orchestrator.client';
import { ObjectMetadataClient } from './object-metadata.client';
import { StorageClient } from './storage.client';
import { UsageAggregatorClient } from './usage-aggregator.client';

const principal: ServicePrincipal = {
  orgId: '0196f3c2-a1b0-7c4d-9e8f-0a1b2c3d4e5f',
  orgKey: 'acme',
  userId: null,
  role: null,
  actor: { type: 'system', id: 'test' },
  workflowId: null,
};

/** A transport that records each call and answers `{}`. */
function fakeTransport() {
  const transport = {
    call: jest.fn().mockResolvedValue({}),
    callJsonText: jest.fn().mockResolvedValue('{"objects":[]}'),
    batched: jest.fn().mockResolvedValue({}),
    close: jest.fn().mockResolvedValue(undefined),
  };
  return { transport, http: transport as unknown as ServiceClient };
}

// The clients own the wire: these are the routes, queries and bodies the services' controllers take.
describe('service clients', () => {
  describe('ObjectMetadataClient', () => {
    it('should send the Objects API commands to their routes, the id encoded', async () => {
      const { transport, http } = fakeTransport();
      const client = new ObjectMetadataClient(http);
      await client.completeObject(principal, { id: 'obj_1' });
      await client.deleteObject(principal, { id: 'obj_1' });
      await client.publishObject(principal, { id: 'obj_1' });
      await client.unpublishObject(principal, { id: 'a b' });
      await client.metadataValues(principal, { key: 'a/b' });
      expect(transport.call.mock.calls).toEqual([
        ['POST', '/internal/objects/obj_1/complete', { principal }],
        ['POST', '/internal/objects/obj_1/delete', { principal }],
        ['POST', '/internal/objects/obj_1/publish', { principal }],
        ['POST', '/internal/objects/a%20b/unpublish', { principal }],
        ['GET', '/internal/objects/metadata/keys/a%2Fb/values', { principal }],
      ]);
    });

    it('should pass object pages on as text and batch the hot operations', async () => {
      const { transport, http } = fakeTransport();
      const client = new ObjectMetadataClient(http);
      expect(await client.listObjects(principal, { limit: 5 })).toBe('{"objects":[]}');
      await client.listPublicObjects({ limit: 5 });
      expect(transport.callJsonText.mock.calls).toEqual([
        ['/internal/objects', { principal, query: { limit: 5 } }],
        ['/internal/objects/public', { query: { limit: 5 } }],
      ]);
      await client.getObject(principal, { id: 'obj_1' });
      await client.publicFileDownloadUrl({ objectKey: 'k', type: 'inline' });
      expect(transport.batched.mock.calls).toEqual([
        ['objects.get', { id: 'obj_1' }, principal],
        ['files.downloadUrl', { objectKey: 'k', type: 'inline' }],
      ]);
      expect(transport.call).not.toHaveBeenCalled();
    });

    it('should send org storage reads as queries and changes as bodies', async () => {
      const { transport, http } = fakeTransport();
      const client = new ObjectMetadataClient(http);
      await client.orgListing(principal, { path: 'a', limit: 2, cursor: undefined });
      await client.orgStats(principal, { path: 'a' });
      await client.moveOrgEntry(principal, { sourcePath: 'a', destPath: 'b', ifMatch: '"e"' });
      expect(transport.call.mock.calls).toEqual([
        [
          'GET',
          '/internal/org-files/children',
          { principal, query: { path: 'a', limit: 2, cursor: undefined } },
        ],
        ['GET', '/internal/org-files/stats', { principal, query: { path: 'a' } }],
        [
          'POST',
          '/internal/org-files/move',
          { principal, body: { sourcePath: 'a', destPath: 'b', ifMatch: '"e"' } },
        ],
      ]);
    });

    it('should answer null for no latest run file, and throw any other error', async () => {
      const { transport, http } = fakeTransport();
      const client = new ObjectMetadataClient(http);
      const query = { workflowId: 'w', direction: 'output' as const, filename: 'a.csv' };
      transport.call.mockRejectedValueOnce(new DomainException(404, 'NOT_FOUND', 'none'));
      await expect(client.latestRunFile(principal, query)).resolves.toBeNull();
      const failed = new DomainException(503, 'UNAVAILABLE', 'down');
      transport.call.mockRejectedValueOnce(failed);
      await expect(client.latestRunFile(principal, query)).rejects.toBe(failed);
      expect(transport.call).toHaveBeenCalledWith('GET', '/internal/run-files/latest', {
        principal,
        query,
      });
    });
  });

  it('StorageClient should copy with a long timeout and delete by key', async () => {
    const { transport, http } = fakeTransport();
    const client = new StorageClient(http);
    await client.copyBytes(principal, { from: 'acme/a', to: 'acme/b', maxBytes: 9 });
    await client.deleteBytes(principal, { key: 'acme/a' });
    await client.deleteKeys(principal, { keys: ['acme/a'] });
    expect(transport.call.mock.calls).toEqual([
      [
        'POST',
        '/internal/bytes/copy',
        { principal, body: { from: 'acme/a', to: 'acme/b', maxBytes: 9 }, timeoutMs: 600_000 },
      ],
      ['DELETE', '/internal/bytes', { principal, query: { key: 'acme/a' } }],
      ['POST', '/internal/bytes/delete', { principal, body: { keys: ['acme/a'] } }],
    ]);
  });

  it('FlowOrchestratorClient should encode names, run ids and edges into the path', async () => {
    const { transport, http } = fakeTransport();
    const client = new FlowOrchestratorClient(http);
    await client.startFlow(principal, { name: 'a b' }, { definition: null });
    await client.workflowNamed(principal, { name: 'a b' });
    await client.uploadTarget(principal, { runId: 'r', edge: 'a b' });
    await client.completeUpload(principal, { runId: 'r', edge: 'a b' });
    await client.triggerRun(principal, { workflowId: 'w', payload: null });
    expect(transport.call.mock.calls).toEqual([
      ['POST', '/internal/flows/a%20b/runs', { principal, body: { definition: null } }],
      ['GET', '/internal/workflows/by-name/a%20b', { principal }],
      ['GET', '/internal/runs/r/edges/a%20b', { principal }],
      ['POST', '/internal/runs/r/edges/a%20b/complete', { principal }],
    ]);
    expect(transport.batched).toHaveBeenCalledWith(
      'runs.trigger',
      { workflowId: 'w', payload: null },
      principal,
    );
  });

  it('UsageAggregatorClient should ask for the usage of the org, or of one user', async () => {
    const { transport, http } = fakeTransport();
    await new UsageAggregatorClient(http).usage(principal, { createdBy: 'u' });
    expect(transport.call).toHaveBeenCalledWith('GET', '/internal/usage', {
      principal,
      query: { createdBy: 'u' },
    });
  });
});
