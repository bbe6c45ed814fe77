import { randomUUID } from 'node:crypto';
import { EventActor, orgFileKey } from '@lib/contracts';
import { dataSourceOptions } from '@lib/database';
import { DomainException } from '@lib/errors';
import { EVENTS_PUBLISHER_ENTITIES, OutboxWriter } from '@lib/events';
import { createTestDatabase, TestDatabase } from '@lib/testing';
import { DataSource } from 'typeorm';
import { ObjectBytesService, type StoredFileRef } from '../src/bytes/object-bytes.service';
import { OBJECT_METADATA_SCHEMA } from '../src/database/migrations';
import { FileLocatorRegistry } from '../src/files/file-locator';
import { OrgFileLocator } from '../src/org-files/org-file-locator';
import { OrgFilePurger } from '../src/org-files/org-file-purger.service';
import { OrgFilesRepository } from '../src/org-files/org-files.repository';
import { OrgFileReadsService } from '../src/org-files/org-file-reads.service';
import { OrgTree } from '../src/org-files/org-tree';
import { OrgTreeMutationsService } from '../src/org-files/org-tree-mutations.service';
import { OrgUploadCommitsService } from '../src/org-files/org-upload-commits.service';
import {
  FOLDER_DELETE_BATCH,
  OrgFolderDeleteWorker,
} from '../src/org-files/org-folder-delete.worker';
import { FOLDER_MOVE_BATCH, OrgFolderMoveWorker } from '../src/org-files/org-folder-move.worker';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';

/** The purger's settings (its sweep timer is not started here). */
const purgeConfig = { orgFiles: { purgeIntervalMs: 30_000 } } as unknown as ConstructorParameters<
  typeof OrgFilePurger
>[2];

const ACTOR: EventActor = { type: 'api_key', id: 'test-key' };

interface OutboxRow {
  message_key: string;
  payload: { data: { path: string; change: string; version: number; sizeBytes: number } };
  /** The transaction that wrote the event. */
  xmin: string;
}

/** The status a service call failed with, or 'ok'. */
async function statusOf(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainException) return err.status;
    throw err;
  }
}

// Org storage's rules in a real Postgres: folder rename/move as one row with the per-file `moved` events
// from the worker in batches, races between creators and movers, and stats from the folder counters
// checked against a full scan.
describe('Org files (Postgres)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repo: OrgFilesRepository;
  let worker: OrgFolderMoveWorker;
  let deletes: OrgFolderDeleteWorker;
  let reads: OrgFileReadsService;
  let uploads: OrgUploadCommitsService;
  let mutations: OrgTreeMutationsService;
  const purged: string[] = [];

  const caller = (orgId: string) => ({ orgId, actor: ACTOR });

  const put = (orgId: string, path: string, name: string, size: number) =>
    uploads.commitUpload({
      orgId,
      orgKey: 'int-org',
      actor: ACTOR,
      createdBy: null,
      path,
      name,
      objectKey: orgFileKey('int-org'),
      sizeBytes: size,
      s3Etag: '"e"',
      contentType: 'text/plain',
    });

  const events = async (key?: string) =>
    (
      await dataSource.query<OutboxRow[]>(
        `SELECT message_key, payload, xmin::text AS xmin FROM object_metadata.outbox
         WHERE ($1::text IS NULL OR message_key = $1) ORDER BY id`,
        [key ?? null],
      )
    ).map((r) => ({ key: r.message_key, transaction: r.xmin, ...r.payload.data }));

  /** Stats recomputed the slow way: every file of every folder under `path`. */
  const scannedStats = async (orgId: string, path: string) => {
    const listing = await reads.list(orgId, path);
    let bytes = 0;
    let files = 0;
    for (const e of listing.entries) {
      if (e.type === 'file') {
        bytes += e.sizeBytes;
        files += 1;
      } else {
        const sub = await scannedStats(orgId, e.path);
        bytes += sub.bytes;
        files += sub.files;
      }
    }
    return { bytes, files };
  };

  beforeAll(async () => {
    db = await createTestDatabase('om_org_files');
    dataSource = new DataSource(
      dataSourceOptions({
        url: db.url,
        schema: OBJECT_METADATA_SCHEMA,
        entities: [...EVENTS_PUBLISHER_ENTITIES],
      }),
    );
    await dataSource.initialize();
    repo = new OrgFilesRepository(dataSource);
    const outbox = new OutboxWriter({ source: '/object-metadata-test' });
    const bytes = {
      deleteMany: (files: StoredFileRef[]) => {
        purged.push(...files.map((f) => f.objectKey));
        return Promise.resolve();
      },
    } as unknown as ObjectBytesService;
    worker = new OrgFolderMoveWorker(repo, outbox);
    const purger = new OrgFilePurger(repo, bytes, purgeConfig);
    deletes = new OrgFolderDeleteWorker(repo, outbox, purger);
    // The service's wake-up calls are no-ops here: the tests drain the workers themselves.
    const quiet = { kick: () => undefined };
    const tree = new OrgTree(repo, outbox);
    const quotas = new StorageQuotas(new OrgQuotasRepository(dataSource));
    reads = new OrgFileReadsService(repo, tree, bytes);
    uploads = new OrgUploadCommitsService(repo, tree, purger, quotas);
    mutations = new OrgTreeMutationsService(
      repo,
      tree,
      bytes,
      purger,
      quiet as unknown as OrgFolderMoveWorker,
      quiet as unknown as OrgFolderDeleteWorker,
      quotas,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('should rename a folder by changing one row and then publish moved for every file, in batches', async () => {
    const org = randomUUID();
    const count = FOLDER_MOVE_BATCH * 2 + 17;
    await put(org, 'big', 'seed.txt', 1);
    const [{ id: folderId }] = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM object_metadata.org_folders WHERE org_id = $1 AND name = 'big'`,
      [org],
    );
    // Seeded in SQL (the API's own upload path is covered above): `count` files in big/inner.
    const inner = await repo.transaction((m) => repo.insertFolder(m, org, folderId, 'inner'));
    await dataSource.query(
      `INSERT INTO object_metadata.org_files (id, org_id, org_key, folder_id, name, object_key, size_bytes,
         version)
       SELECT 'file_' || lpad(g::text, 32, '0'), $1::uuid, 'int-org', $2, 'f' || g, 'k/' || $1::text || '/' || g, 10, 1
       FROM generate_series(1, $3::int) g`,
      [org, inner.id, count],
    );
    await dataSource.query(
      `UPDATE object_metadata.org_folders SET file_count = $2::bigint, byte_count = $2::bigint * 10 WHERE id = $1`,
      [inner.id, count],
    );
    const before = await events();
    const filesBefore = await dataSource.query<{ folder_id: string }[]>(
      `SELECT DISTINCT folder_id FROM object_metadata.org_files WHERE org_id = $1`,
      [org],
    );

    const res = await mutations.rename(caller(org), 'big', 'huge');

    expect(res).toMatchObject({ type: 'folder', path: 'huge', previousPath: 'big' });
    // The request touched no file row and wrote no file event: one folder row and one queued job.
    expect(
      await dataSource.query(
        `SELECT DISTINCT folder_id FROM object_metadata.org_files WHERE org_id = $1`,
        [org],
      ),
    ).toEqual(filesBefore);
    expect((await events()).length).toBe(before.length);
    expect(await repo.pendingFolderMoves()).toBe(1);

    await worker.drain();

    expect(await repo.pendingFolderMoves()).toBe(0);
    const moved = (await events()).slice(before.length);
    expect(moved).toHaveLength(count + 1);
    expect(new Set(moved.map((e) => e.key)).size).toBe(count + 1);
    expect(moved.every((e) => e.change === 'moved' && e.version === 2)).toBe(true);
    expect(moved.map((e) => e.path)).toEqual(
      expect.arrayContaining(['huge/seed.txt', 'huge/inner/f1', `huge/inner/f${count}`]),
    );
    expect(await reads.stats(org, 'huge')).toMatchObject({
      files: count + 1,
      bytes: count * 10 + 1,
    });
  });

  it('should delete a folder of 5,000 files in batches, one deleted event each, resuming after an interruption', async () => {
    const org = randomUUID();
    const count = 5_000;
    await put(org, 'bulk', 'seed.txt', 1);
    const [{ id: bulkId }] = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM object_metadata.org_folders WHERE org_id = $1 AND name = 'bulk'`,
      [org],
    );
    // Seeded in SQL, as for the folder rename: `count` files in bulk/inner, ids in their number's order
    // (after the id of seed.txt).
    const inner = await repo.transaction((m) => repo.insertFolder(m, org, bulkId, 'inner'));
    await dataSource.query(
      `INSERT INTO object_metadata.org_files (id, org_id, org_key, folder_id, name, object_key, size_bytes,
         version)
       SELECT 'file_d' || lpad(g::text, 31, '0'), $1::uuid, 'int-org', $2, 'f' || g, 'k/' || $1::text || '/' || g, 10, 1
       FROM generate_series(1, $3::int) g`,
      [org, inner.id, count],
    );
    await dataSource.query(
      `UPDATE object_metadata.org_folders SET file_count = $2::bigint, byte_count = $2::bigint * 10 WHERE id = $1`,
      [inner.id, count],
    );
    const files = await dataSource.query<{ id: string; object_key: string }[]>(
      `SELECT id, object_key FROM object_metadata.org_files WHERE org_id = $1`,
      [org],
    );
    const before = (await events()).length;

    const res = await mutations.remove(caller(org), 'bulk');

    expect(res).toMatchObject({ type: 'folder', deletedFiles: count + 1, deletedFolders: 2 });
    // The request wrote no file event; the folder is gone from the tree at once and its name is free.
    expect((await events()).length).toBe(before);
    expect(await repo.pendingFolderDeletes()).toBe(1);
    expect((await reads.list(org, '/')).entries).toEqual([]);
    expect(await reads.stats(org, '/')).toMatchObject({ files: 0, bytes: 0, folders: 0 });
    expect(await statusOf(reads.meta(org, 'bulk/inner/f1'))).toBe(404);
    expect((await put(org, 'bulk', 'again.txt', 3)).created).toBe(true);

    // A request holds file 2,550: the worker stops at the batch that has it (NOWAIT), as a crash would.
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`SELECT 1 FROM object_metadata.org_files WHERE id = $1 FOR UPDATE`, [
      `file_d${'2550'.padStart(31, '0')}`,
    ]);
    await deletes.drain();
    const interrupted = (await events()).slice(before).filter((e) => e.change === 'deleted');
    expect(interrupted).toHaveLength(2_500);
    expect(await repo.pendingFolderDeletes()).toBe(1);
    await holder.rollbackTransaction();
    await holder.release();

    await deletes.drain();

    expect(await repo.pendingFolderDeletes()).toBe(0);
    const deleted = (await events()).slice(before).filter((e) => e.change === 'deleted');
    expect(deleted.map((e) => e.key).sort()).toEqual(files.map((f) => f.id).sort());
    expect(deleted.every((e) => e.version === 2 && e.sizeBytes === 0)).toBe(true);
    expect(deleted.map((e) => e.path)).toEqual(
      expect.arrayContaining(['bulk/seed.txt', 'bulk/inner/f1', `bulk/inner/f${count}`]),
    );
    // Batches, never one huge transaction: at most FOLDER_DELETE_BATCH events were committed together.
    const perTransaction = new Map<string, number>();
    for (const e of deleted)
      perTransaction.set(e.transaction, (perTransaction.get(e.transaction) ?? 0) + 1);
    expect(Math.max(...perTransaction.values())).toBe(FOLDER_DELETE_BATCH);
    expect(perTransaction.size).toBe(Math.ceil((count + 1) / FOLDER_DELETE_BATCH));
    const left = await dataSource.query<{ name: string }[]>(
      `SELECT name FROM object_metadata.org_folders WHERE org_id = $1 AND parent_id IS NOT NULL`,
      [org],
    );
    expect(left).toEqual([{ name: 'bulk' }]); // the new one
    const gone = new Set(purged);
    expect(files.filter((f) => !gone.has(f.object_key))).toEqual([]);
    expect(await repo.pendingPurges(10_000)).toEqual([]);
  });

  it('should publish nothing for a folder deleted before its move events went out', async () => {
    const org = randomUUID();
    await put(org, 'gone/a', 'x.txt', 3);
    await mutations.move(caller(org), 'gone/a', '/');
    await mutations.remove(caller(org), 'a');
    const before = (await events()).length;
    await worker.drain();
    expect(await repo.pendingFolderMoves()).toBe(0);
    expect((await events()).length).toBe(before);
  });

  it('should never make a cycle when two folders are moved into each other at once', async () => {
    const org = randomUUID();
    await mutations.createFolder(caller(org), '/', 'a');
    await mutations.createFolder(caller(org), '/', 'b');
    const results = await Promise.all([
      statusOf(mutations.move(caller(org), 'a', 'b')),
      statusOf(mutations.move(caller(org), 'b', 'a')),
    ]);
    // The second move sees the first (the org's tree lock): it is either a 404 (its source moved
    // away) or a 400 (into itself); never two successes.
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r !== 'ok')[0]).toBeGreaterThanOrEqual(400);
    const listing = await reads.list(org, '/');
    expect(listing.entries).toHaveLength(1);
    await worker.drain();
  });

  it('should find the root that a concurrent first upload created after its statement began', async () => {
    const org = randomUUID();
    const first = dataSource.createQueryRunner();
    await first.connect();
    await first.startTransaction();
    try {
      const created = await repo.ensureRoot(first.manager, org); // not committed yet
      // The second insert waits for the first transaction, then does nothing: its statement's snapshot
      // predates the root, so only the second read finds it.
      const second = dataSource.transaction((m) => repo.ensureRoot(m, org));
      await new Promise((r) => setTimeout(r, 100));
      await first.commitTransaction();
      expect((await second).id).toBe(created.id);
    } finally {
      await first.release();
    }
  });

  it('should keep one file when the same new name is uploaded many times at once (last write wins)', async () => {
    const org = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put(org, 'race', 'same.txt', i + 1)),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const listing = await reads.list(org, 'race');
    expect(listing.entries).toHaveLength(1);
    expect(await reads.stats(org, 'race')).toMatchObject({
      files: 1,
      bytes: (listing.entries[0] as { sizeBytes: number }).sizeBytes,
    });
    const id = (
      await dataSource.query<{ id: string }[]>(
        `SELECT id FROM object_metadata.org_files WHERE org_id = $1`,
        [org],
      )
    )[0].id;
    expect((await events(id)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('should commit concurrent uploads into one folder in one transaction, each with its own answer', async () => {
    const org = randomUUID();
    await put(org, 'mix/sub', 'inner.txt', 1); // 'sub' is a folder of 'mix'
    const old = await put(org, 'mix', 'old.txt', 5);
    const status = (p: Promise<{ created: boolean }>) =>
      p.then(
        (r) => (r.created ? 201 : 200),
        (err: unknown) => (err as DomainException).status,
      );
    const fresh = Array.from({ length: 20 }, (_, i) => status(put(org, 'mix', `a${i}.txt`, 10)));
    const overwrite = status(put(org, 'mix', 'old.txt', 7));
    const onFolder = status(put(org, 'mix', 'sub', 3));
    const stale = status(
      uploads.commitUpload({
        orgId: org,
        orgKey: 'int-org',
        actor: ACTOR,
        createdBy: null,
        path: 'mix',
        name: 'old.txt',
        objectKey: orgFileKey('int-org'),
        sizeBytes: 9,
        s3Etag: '"e"',
        contentType: 'text/plain',
        ifMatch: old.file.etag,
      }),
    );
    expect(await Promise.all(fresh)).toEqual(Array(20).fill(201));
    // The overwrite came first: the conditional one, in the folder's next transaction, no longer matches.
    expect([await overwrite, await onFolder, await stale]).toEqual([200, 409, 412]);

    const [{ transactions }] = await dataSource.query<{ transactions: number }[]>(
      `SELECT count(DISTINCT xmin::text)::int AS transactions FROM object_metadata.org_files
       WHERE org_id = $1 AND name LIKE 'a%'`,
      [org],
    );
    expect(transactions).toBe(1);
    expect(await reads.stats(org, 'mix')).toMatchObject(await scannedStats(org, 'mix'));
    expect(await scannedStats(org, 'mix')).toEqual({ files: 22, bytes: 1 + 7 + 200 });
  });

  it('should list a big folder in keyset pages, folders first, never repeating or skipping an entry that stays', async () => {
    const org = randomUUID();
    const folders = Array.from({ length: 30 }, (_, i) => `dir-${String(i).padStart(3, '0')}`);
    const files = Array.from({ length: 400 }, (_, i) => `f-${String(i).padStart(4, '0')}.txt`);
    await mutations.createFolder(caller(org), '/', 'big');
    for (const name of folders) await mutations.createFolder(caller(org), 'big', name);
    for (const name of files) await put(org, 'big', name, 1);
    const expected = [...folders.map((n) => `folder:${n}`), ...files.map((n) => `file:${n}`)];

    const seen: string[] = [];
    const added: string[] = [];
    const removed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reads.list(org, 'big', { limit: 37, cursor });
      pages++;
      expect(page.entries.length).toBe(page.hasMore ? 37 : page.entries.length);
      seen.push(...page.entries.map((e) => `${e.type}:${e.name}`));
      cursor = page.nextCursor ?? undefined;
      expect(page.hasMore).toBe(cursor !== undefined);
      if (cursor === undefined) break;
      // Between pages: a file appears behind the cursor, one ahead of it, and one not yet seen goes away.
      const behind = `f-0000-${pages}.txt`;
      const ahead = `g-${String(pages).padStart(3, '0')}.txt`;
      await put(org, 'big', behind, 1);
      await put(org, 'big', ahead, 1);
      added.push(`file:${behind}`, `file:${ahead}`);
      const doomed = files[files.length - pages];
      await mutations.remove(caller(org), `big/${doomed}`);
      removed.push(`file:${doomed}`);
    } while (cursor !== undefined);

    expect(new Set(seen).size).toBe(seen.length);
    const stayed = expected.filter((e) => !removed.includes(e));
    expect(seen.filter((e) => !added.includes(e))).toEqual(stayed);
    // Entries added ahead of the cursor are listed (by name, after the original files); none behind it.
    expect(seen.filter((e) => added.includes(e))).toEqual(
      added.filter((e) => e.startsWith('file:g-')),
    );
    expect(pages).toBe(Math.ceil(expected.length / 37));
  });

  it('should answer 400 naming the cursor for one it did not write', async () => {
    const org = randomUUID();
    await put(org, '/', 'a.txt', 1);
    const err = await reads.list(org, '/', { cursor: 'bm9wZQ' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainException);
    expect((err as DomainException).status).toBe(400);
    expect((err as Error).message).toBe(
      'cursor must be the nextCursor of a previous page of this listing',
    );
  });

  it('should answer 409 to all but one of concurrent creators of one folder name', async () => {
    const org = randomUUID();
    await mutations.createFolder(caller(org), '/', 'first');
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        statusOf(mutations.createFolder(caller(org), 'first', 'dup')),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 409)).toHaveLength(5);
  });

  it('should refuse a file and a folder of one name in one folder (409 both ways)', async () => {
    const org = randomUUID();
    await put(org, 'mix', 'thing', 1);
    expect(await statusOf(mutations.createFolder(caller(org), 'mix', 'thing'))).toBe(409);
    await mutations.createFolder(caller(org), 'mix', 'dir');
    expect(await statusOf(put(org, 'mix', 'dir', 1))).toBe(409);
    expect(await statusOf(put(org, 'mix/thing', 'inside', 1))).toBe(409);
    expect(await statusOf(mutations.rename(caller(org), 'mix/dir', 'thing'))).toBe(409);
  });

  it('should answer uploads racing a delete of their folder with success or 409, never an error', async () => {
    const org = randomUUID();
    for (let round = 0; round < 5; round++) {
      await put(org, 'race/x/y', 'seed.txt', 1);
      const results = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => statusOf(put(org, 'race/x/y', `u${i}.txt`, 2))),
        statusOf(mutations.remove(caller(org), 'race/x')),
        ...Array.from({ length: 4 }, (_, i) => statusOf(put(org, 'race/x', `v${i}.txt`, 3))),
      ]);
      expect(results.every((r) => r === 'ok' || r === 409 || r === 404)).toBe(true);
      const stats = await reads.stats(org, '/');
      expect({ bytes: stats.bytes, files: stats.files }).toEqual(await scannedStats(org, '/'));
      await mutations.remove(caller(org), 'race').catch(() => undefined);
    }
  });

  it('should find live org files by S3 key and list them in id pages through the locator registry', async () => {
    const org = randomUUID();
    const registry = new FileLocatorRegistry();
    new OrgFileLocator(repo, registry).onModuleInit();
    const a = await put(org, 'loc', 'a.txt', 5);
    await put(org, 'loc', 'b.txt', 6);
    const [row] = await dataSource.query<{ id: string; object_key: string }[]>(
      `SELECT id, object_key FROM object_metadata.org_files WHERE org_id = $1 AND name = 'a.txt'`,
      [org],
    );
    expect(await registry.findLive(row.object_key)).toMatchObject({
      kind: 'org_file',
      objectId: row.id,
      orgId: org,
      filename: 'a.txt',
      sizeBytes: a.file.sizeBytes,
      direction: 'none',
      version: 1,
    });
    expect(await registry.findLive(orgFileKey('int-org'))).toBeNull();
    const [locator] = registry.all();
    const first = await locator.listLive({ orgId: org, limit: 1 });
    const second = await locator.listLive({
      orgId: org,
      afterObjectId: first[0].objectId,
      limit: 5,
    });
    expect([...first, ...second].map((f) => f.filename).sort()).toEqual(['a.txt', 'b.txt']);
    await mutations.remove(caller(org), 'loc/a.txt');
    expect(await registry.findLive(row.object_key)).toBeNull();
  });

  it('should keep the bytes of an overwritten file recorded until storage confirms their removal', async () => {
    const org = randomUUID();
    let storageUp = false;
    const flaky = {
      deleteMany: (files: StoredFileRef[]) =>
        storageUp
          ? (purged.push(...files.map((f) => f.objectKey)), Promise.resolve())
          : Promise.reject(new Error('down')),
    } as unknown as ObjectBytesService;
    const purger = new OrgFilePurger(repo, flaky, purgeConfig);
    const local = new OrgUploadCommitsService(
      repo,
      new OrgTree(repo, new OutboxWriter({ source: '/object-metadata-test' })),
      purger,
      new StorageQuotas(new OrgQuotasRepository(dataSource)),
    );
    const upload = (size: number) =>
      local.commitUpload({
        orgId: org,
        orgKey: 'int-org',
        actor: ACTOR,
        createdBy: null,
        path: 'p',
        name: 'f.txt',
        objectKey: orgFileKey('int-org'),
        sizeBytes: size,
        s3Etag: null,
        contentType: null,
      });
    await upload(1);
    const [{ object_key: first }] = await dataSource.query<{ object_key: string }[]>(
      `SELECT object_key FROM object_metadata.org_files WHERE org_id = $1`,
      [org],
    );
    await upload(2); // storage is down: the old bytes stay recorded
    // Recorded with its org: storage removes bytes only for the org a call names.
    expect(await repo.pendingPurges(10_000)).toContainEqual({ orgId: org, objectKey: first });
    storageUp = true;
    await purger.purgeNow(await repo.pendingPurges(10_000));
    expect(purged).toContain(first);
    expect(await repo.pendingPurges(10_000)).not.toContainEqual({ orgId: org, objectKey: first });
  });

  it('should keep stats equal to a full scan through uploads, overwrites, moves, renames and deletes', async () => {
    const org = randomUUID();
    const check = async () => {
      for (const path of ['/', 'p', 'p/q', 'r']) {
        const stats = await reads.stats(org, path).catch(() => null);
        if (!stats) continue;
        expect({ path, ...(await scannedStats(org, path)) }).toEqual({
          path,
          bytes: stats.bytes,
          files: stats.files,
        });
      }
    };
    await put(org, 'p', 'a', 10);
    await put(org, 'p/q', 'b', 20);
    await put(org, 'p/q/s', 'c', 30);
    await put(org, 'r', 'd', 40);
    await check();
    await put(org, 'p/q', 'b', 25);
    await check();
    await mutations.move(caller(org), 'p/q/s', 'r');
    await check();
    await mutations.move(caller(org), 'r/d', 'p');
    await check();
    await mutations.rename(caller(org), 'p/q', 'q2');
    await check();
    await mutations.remove(caller(org), 'p/q2');
    await check();
    await mutations.copy({ ...caller(org), orgKey: 'int-org', createdBy: null }, 'p/a', 'r').catch(
      () => undefined, // no storage here: the copy fails after its check and must change nothing
    );
    await check();
    expect(await reads.stats(org, '/')).toMatchObject({ files: 3, bytes: 80 });
    await worker.drain();
  });
});
