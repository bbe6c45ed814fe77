import { newKeyToken, type ObjectKeyKind, type LiveFile } from '@lib/contracts';
import type { ObjectBytesService } from '../bytes/object-bytes.service';
import { FileLocator, FileLocatorRegistry } from './file-locator';
import {
  FileNotFoundException,
  InvalidCursorException,
  InvalidObjectKeyException,
} from './files.exception';
import { FilesService } from './files.service';

const file = (kind: ObjectKeyKind, objectId: string, orgId = 'org-a'): LiveFile => ({
  kind,
  objectId,
  orgId,
  orgKey: 'acme',
  objectKey: kind === 'org_file' ? `acme/files/${newKeyToken()}` : `acme/x/${objectId}`,
  filename: `${objectId}.txt`,
  contentType: null,
  sizeBytes: 1,
  etag: null,
  direction: 'none',
  workflowId: null,
  createdBy: null,
  version: 1,
});

/** An in-memory locator of one kind, keyset-paged by objectId as the contract says. */
function locator(kind: ObjectKeyKind, files: LiveFile[]): FileLocator {
  const sorted = [...files].sort((a, b) => (a.objectId < b.objectId ? -1 : 1));
  return {
    kind,
    findLive: (key) => Promise.resolve(sorted.find((f) => f.objectKey === key) ?? null),
    listLive: ({ orgId, afterObjectId, limit }) =>
      Promise.resolve(
        sorted
          .filter((f) => f.orgId === orgId && (!afterObjectId || f.objectId > afterObjectId))
          .slice(0, limit),
      ),
  };
}

describe(FilesService.name, () => {
  const orgFiles = ['a', 'b', 'c', 'd', 'e'].map((id) => ({
    ...file('org_file', `f_${id}`),
    contentType: id === 'b' ? 'text/html' : 'text/plain',
  }));
  const runFiles = ['1', '2', '3', '4'].map((id) =>
    file('run_file', `r_${id}`, id === '2' ? 'org-b' : 'org-a'),
  );
  let sut: FilesService;
  const presigned: unknown[] = [];

  beforeEach(() => {
    const registry = new FileLocatorRegistry();
    // Registered in any order: kinds are walked in one fixed order.
    registry.register(locator('run_file', runFiles));
    registry.register(locator('org_file', orgFiles));
    const bytes = {
      downloadUrl: (...args: unknown[]) => {
        presigned.push(args);
        return 'https://s3/signed';
      },
    } as unknown as ObjectBytesService;
    sut = new FilesService(registry, bytes);
  });

  it('should list every live file of every kind of the org exactly once when paging with a small limit', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await sut.listLive({ orgId: 'org-a', cursor, limit: 2 });
      seen.push(...page.files.map((f) => f.objectId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const ofOrgA = [...orgFiles, ...runFiles].filter((f) => f.orgId === 'org-a');
    expect(seen).toEqual(ofOrgA.map((f) => f.objectId));
  });

  it("should list only the org's files", async () => {
    const page = await sut.listLive({ orgId: 'org-b', limit: 100 });
    expect(page).toEqual({ files: [runFiles[1]], nextCursor: null });
  });

  it('should refuse a cursor it did not make', async () => {
    for (const cursor of ['nope', ':x', 'object:', 'bogus:f_a']) {
      await expect(sut.listLive({ orgId: 'org-a', cursor, limit: 2 })).rejects.toBeInstanceOf(
        InvalidCursorException,
      );
    }
  });

  it('should find a live file by key, 400 for a malformed key and 404 for an unknown one', async () => {
    await expect(sut.findLive(orgFiles[2].objectKey)).resolves.toBe(orgFiles[2]);
    await expect(sut.findLive('../etc/passwd')).rejects.toBeInstanceOf(InvalidObjectKeyException);
    await expect(sut.findLive(`acme/files/${newKeyToken()}`)).rejects.toBeInstanceOf(
      FileNotFoundException,
    );
    // A well-formed key of a kind nobody registered is simply not found.
    await expect(
      sut.findLive(`acme/objects/obj_${'0'.repeat(32)}/${newKeyToken()}`),
    ).rejects.toBeInstanceOf(FileNotFoundException);
  });

  it('should sign the download with the disposition asked for, the file name and its safe type', async () => {
    await expect(sut.downloadUrl(orgFiles[0].objectKey, 'inline')).resolves.toEqual({
      url: 'https://s3/signed',
    });
    expect(presigned.at(-1)).toEqual([
      orgFiles[0].objectKey,
      300,
      {
        responseCacheControl: 'private, no-store',
        responseContentDisposition: 'inline; filename="f_a.txt"',
        responseContentType: 'text/plain',
      },
    ]);
  });

  it('should sign a page as an octet-stream attachment, even when inline was asked for', async () => {
    await sut.downloadUrl(orgFiles[1].objectKey, 'inline');
    expect(presigned.at(-1)).toEqual([
      orgFiles[1].objectKey,
      300,
      {
        responseCacheControl: 'private, no-store',
        responseContentDisposition: 'attachment; filename="f_b.txt"',
        responseContentType: 'application/octet-stream',
      },
    ]);
  });
});
