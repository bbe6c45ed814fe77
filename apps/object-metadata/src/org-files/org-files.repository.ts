import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { EventActor, OrgListCursor } from '@lib/contracts';
import { runTransaction, type TransactionOptions } from '@lib/database';
import { DataSource, EntityManager } from 'typeorm';
import type { StoredFileRef } from '../bytes/object-bytes.service';

export interface OrgFolder {
  id: string;
  orgId: string;
  parentId: string | null;
  name: string;
  version: number;
  fileCount: number;
  byteCount: number;
  updatedAt: Date;
}

export interface OrgFile {
  id: string;
  orgId: string;
  orgKey: string;
  folderId: string;
  name: string;
  objectKey: string;
  sizeBytes: number;
  contentType: string | null;
  s3Etag: string | null;
  version: number;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A folder of a subtree with its path relative to the subtree's top ('' for the top itself). */
export interface SubtreeFolder {
  id: string;
  relPath: string;
}

/** A folder delete whose files are still to be removed (`OrgFolderDeleteWorker`). */
export interface FolderDeleteJob {
  id: string;
  folderId: string;
  /** The folder's path when it was deleted: its files' `deleted` events name their paths under it. */
  path: string;
  actor: EventActor;
}

export interface FolderMoveJob {
  id: string;
  orgId: string;
  folderId: string;
  actor: EventActor;
  afterFileId: string;
}

interface FolderRow {
  id: string;
  org_id: string;
  parent_id: string | null;
  name: string;
  version: number;
  file_count: string;
  byte_count: string;
  updated_at: Date;
}

interface FileRow {
  id: string;
  org_id: string;
  org_key: string;
  folder_id: string;
  name: string;
  object_key: string;
  size_bytes: string;
  content_type: string | null;
  s3_etag: string | null;
  version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const toFolder = (r: FolderRow): OrgFolder => ({
  id: r.id,
  orgId: r.org_id,
  parentId: r.parent_id,
  name: r.name,
  version: r.version,
  fileCount: Number(r.file_count),
  byteCount: Number(r.byte_count),
  updatedAt: r.updated_at,
});

const toFile = (r: FileRow): OrgFile => ({
  id: r.id,
  orgId: r.org_id,
  orgKey: r.org_key,
  folderId: r.folder_id,
  name: r.name,
  objectKey: r.object_key,
  sizeBytes: Number(r.size_bytes),
  contentType: r.content_type,
  s3Etag: r.s3_etag,
  version: r.version,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The rows of an UPDATE/DELETE … RETURNING (TypeORM answers `[rows, count]` for them on Postgres). */
function returned<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * Subfolders of `$1` (itself included) with their paths relative to it: those of its own state, live or
 * marked by the same delete. A live folder's subtree stops at a deleted subfolder; a deleted one's stops at
 * a subfolder an earlier delete marked (that delete removes it).
 */
const SUBTREE = `
  WITH RECURSIVE sub(id, rel_path, deleted_by) AS (
    SELECT id, ''::text, deleted_by FROM org_folders WHERE id = $1
    UNION ALL
    SELECT f.id, CASE WHEN s.rel_path = '' THEN f.name ELSE s.rel_path || '/' || f.name END, f.deleted_by
    FROM org_folders f JOIN sub s ON f.parent_id = s.id
    WHERE f.deleted_by IS NOT DISTINCT FROM s.deleted_by
  )`;

/**
 * The only place touching the org storage tables. Every method takes the transaction's `EntityManager`
 * (reads outside a transaction pass `this.manager`).
 */
@Injectable()
export class OrgFilesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** One transaction; `opts` retry it and map its Postgres errors (`runTransaction`). */
  transaction<T>(work: (m: EntityManager) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    return runTransaction(this.dataSource, work, opts);
  }

  /** Serializes structural changes (folder moves, deletes) of one org: no cycle can be made by a race. */
  async lockOrgTree(m: EntityManager, orgId: string): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 4004))`, [orgId]);
  }

  async findRoot(m: EntityManager, orgId: string): Promise<OrgFolder | null> {
    const rows = await m.query<FolderRow[]>(
      `SELECT * FROM org_folders WHERE org_id = $1 AND parent_id IS NULL`,
      [orgId],
    );
    return rows[0] ? toFolder(rows[0]) : null;
  }

  /**
   * The org's root folder, created on first use: one round trip on every upload into a subfolder and every
   * tree change (an upload into the root takes `lockRoot` instead). The statement sees either
   * the row it inserted or the one that was there; when another transaction's first upload created it after
   * this statement's snapshot (the insert waited for it, then did nothing), a second read finds it.
   */
  async ensureRoot(m: EntityManager, orgId: string): Promise<OrgFolder> {
    const rows = await m.query<FolderRow[]>(
      `WITH created AS (
         INSERT INTO org_folders (id, org_id, parent_id, name) VALUES ($1, $2, NULL, '')
         ON CONFLICT (org_id) WHERE parent_id IS NULL DO NOTHING
         RETURNING *
       )
       SELECT * FROM created
       UNION ALL
       SELECT * FROM org_folders WHERE org_id = $2 AND parent_id IS NULL`,
      [randomUUID(), orgId],
    );
    return rows[0] ? toFolder(rows[0]) : (await this.findRoot(m, orgId))!;
  }

  /**
   * The org's root folder, created on first use, locked until the transaction ends: what an upload into the
   * root takes in one round trip. `DO UPDATE` with a SET that changes nothing locks the row that was there
   * (waiting for its holder) and answers it; the root is never deleted.
   */
  async lockRoot(m: EntityManager, orgId: string): Promise<OrgFolder> {
    const rows = await m.query<FolderRow[]>(
      `INSERT INTO org_folders (id, org_id, parent_id, name) VALUES ($1, $2, NULL, '')
       ON CONFLICT (org_id) WHERE parent_id IS NULL DO UPDATE SET name = org_folders.name
       RETURNING *`,
      [randomUUID(), orgId],
    );
    return toFolder(rows[0]);
  }

  /**
   * Walks `names` down from `rootId`, one indexed step per name: the folders found, from the root (index
   * 0) to the deepest one that exists (index i is the folder named by `names[i - 1]`).
   */
  async walk(m: EntityManager, rootId: string, names: string[]): Promise<OrgFolder[]> {
    const rows = await m.query<(FolderRow & { depth: number })[]>(
      `WITH RECURSIVE walk(id, depth) AS (
         SELECT $1::uuid, 0
         UNION ALL
         SELECT f.id, w.depth + 1 FROM walk w
         JOIN org_folders f ON f.parent_id = w.id AND f.name = ($2::text[])[w.depth + 1]
         WHERE w.depth < cardinality($2::text[])
       )
       SELECT f.*, w.depth FROM walk w JOIN org_folders f ON f.id = w.id ORDER BY w.depth`,
      [rootId, names],
    );
    return rows.map(toFolder);
  }

  /**
   * Locks a live folder; null when it is gone or deleted. A writer that found the folder before a delete
   * committed waits here for it, then gets null (the condition is checked again on the row it waited for).
   */
  async lockFolder(m: EntityManager, id: string): Promise<OrgFolder | null> {
    const rows = await m.query<FolderRow[]>(
      `SELECT * FROM org_folders WHERE id = $1 AND deleted_by IS NULL FOR UPDATE`,
      [id],
    );
    return rows[0] ? toFolder(rows[0]) : null;
  }

  /** Locks several folders in id order (no deadlock between two movers). */
  async lockFolders(m: EntityManager, ids: string[]): Promise<void> {
    await m.query(`SELECT id FROM org_folders WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
  }

  async childFolder(m: EntityManager, parentId: string, name: string): Promise<OrgFolder | null> {
    const rows = await m.query<FolderRow[]>(
      `SELECT * FROM org_folders WHERE parent_id = $1 AND name = $2`,
      [parentId, name],
    );
    return rows[0] ? toFolder(rows[0]) : null;
  }

  /**
   * What `names` are in `folderId`, in one round trip: its files of those names, locked until the
   * transaction ends (in name order, so concurrent lockers cannot deadlock), and which names are folders.
   * A folder comes back as a row of NULL file columns (a join that matches nothing) and its name.
   */
  async lockNames(
    m: EntityManager,
    folderId: string,
    names: string[],
  ): Promise<{ files: Map<string, OrgFile>; folders: Set<string> }> {
    const rows = await m.query<(FileRow & { folder_name: string | null })[]>(
      `WITH files AS (
         SELECT * FROM org_files WHERE folder_id = $1 AND name = ANY($2) ORDER BY name FOR UPDATE
       )
       SELECT files.*, NULL::text AS folder_name FROM files
       UNION ALL
       SELECT files.*, d.name FROM org_folders d LEFT JOIN files ON false
       WHERE d.parent_id = $1 AND d.name = ANY($2)`,
      [folderId, names],
    );
    const files = new Map<string, OrgFile>();
    const folders = new Set<string>();
    for (const r of rows) {
      if (r.folder_name === null) files.set(r.name, toFile(r));
      else folders.add(r.folder_name);
    }
    return { files, folders };
  }

  async fileIn(
    m: EntityManager,
    folderId: string,
    name: string,
    lock = false,
  ): Promise<OrgFile | null> {
    const rows = await m.query<FileRow[]>(
      `SELECT * FROM org_files WHERE folder_id = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`,
      [folderId, name],
    );
    return rows[0] ? toFile(rows[0]) : null;
  }

  /** Is `name` taken in `folderId`, by a file or a folder? */
  async nameTaken(m: EntityManager, folderId: string, name: string): Promise<boolean> {
    const rows = await m.query<unknown[]>(
      `SELECT 1 FROM org_folders WHERE parent_id = $1 AND name = $2
       UNION ALL SELECT 1 FROM org_files WHERE folder_id = $1 AND name = $2 LIMIT 1`,
      [folderId, name],
    );
    return rows.length > 0;
  }

  async insertFolder(
    m: EntityManager,
    orgId: string,
    parentId: string,
    name: string,
  ): Promise<OrgFolder> {
    const rows = await m.query<FolderRow[]>(
      `INSERT INTO org_folders (id, org_id, parent_id, name) VALUES ($1, $2, $3, $4) RETURNING *`,
      [randomUUID(), orgId, parentId, name],
    );
    return toFolder(rows[0]);
  }

  /**
   * Up to `limit` direct children of a folder after `after` (none: from the start), folders first, then
   * files, each by name: keyset pages over the (parent, name) unique indexes.
   */
  async childrenPage(
    m: EntityManager,
    folderId: string,
    page: { after?: OrgListCursor; limit: number },
  ): Promise<{ folders: OrgFolder[]; files: OrgFile[] }> {
    const { after, limit } = page;
    const folders =
      after?.type === 'file'
        ? []
        : await m.query<FolderRow[]>(
            after
              ? `SELECT * FROM org_folders WHERE parent_id = $1 AND name > $3 AND deleted_by IS NULL
                 ORDER BY name LIMIT $2`
              : `SELECT * FROM org_folders WHERE parent_id = $1 AND deleted_by IS NULL
                 ORDER BY name LIMIT $2`,
            after ? [folderId, limit, after.name] : [folderId, limit],
          );
    const room = limit - folders.length;
    const fileAfter = after?.type === 'file' ? after.name : undefined;
    const files =
      room === 0
        ? []
        : await m.query<FileRow[]>(
            fileAfter !== undefined
              ? `SELECT * FROM org_files WHERE folder_id = $1 AND name > $3 ORDER BY name LIMIT $2`
              : `SELECT * FROM org_files WHERE folder_id = $1 ORDER BY name LIMIT $2`,
            fileAfter !== undefined ? [folderId, room, fileAfter] : [folderId, room],
          );
    return { folders: folders.map(toFolder), files: files.map(toFile) };
  }

  /**
   * Several new files and what they change in their folder's counters (`counts`, which may also carry the
   * byte changes of files the same transaction overwrote), in one statement; answers the files in the order
   * given.
   */
  async insertFiles(
    m: EntityManager,
    files: OrgFile[],
    counts: { folderId: string; files: number; bytes: number },
  ): Promise<OrgFile[]> {
    if (files.length === 0) {
      await this.addToCounts(m, counts.folderId, counts.files, counts.bytes);
      return [];
    }
    const rows = await m.query<FileRow[]>(
      `WITH counted AS (
         UPDATE org_folders SET file_count = file_count + $13, byte_count = byte_count + $14
         WHERE id = $12
       )
       INSERT INTO org_files (id, org_id, org_key, folder_id, name, object_key, size_bytes, content_type,
         s3_etag, version, created_by)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[],
         $7::bigint[], $8::text[], $9::text[], $10::int[], $11::uuid[])
       RETURNING *`,
      [
        files.map((f) => f.id),
        files.map((f) => f.orgId),
        files.map((f) => f.orgKey),
        files.map((f) => f.folderId),
        files.map((f) => f.name),
        files.map((f) => f.objectKey),
        files.map((f) => f.sizeBytes),
        files.map((f) => f.contentType),
        files.map((f) => f.s3Etag),
        files.map((f) => f.version),
        files.map((f) => f.createdBy),
        counts.folderId,
        counts.files,
        counts.bytes,
      ],
    );
    const byId = new Map(rows.map((r) => [r.id, toFile(r)]));
    return files.map((f) => byId.get(f.id)!);
  }

  /** New bytes for an existing file (same id, next version). */
  async replaceContent(
    m: EntityManager,
    id: string,
    c: { objectKey: string; sizeBytes: number; contentType: string | null; s3Etag: string | null },
  ): Promise<OrgFile> {
    const rows = returned<FileRow>(
      await m.query(
        `UPDATE org_files SET object_key = $2, size_bytes = $3, content_type = $4, s3_etag = $5,
           version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, c.objectKey, c.sizeBytes, c.contentType, c.s3Etag],
      ),
    );
    return toFile(rows[0]);
  }

  async relocateFile(
    m: EntityManager,
    id: string,
    folderId: string,
    name: string,
  ): Promise<OrgFile> {
    const rows = returned<FileRow>(
      await m.query(
        `UPDATE org_files SET folder_id = $2, name = $3, version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, folderId, name],
      ),
    );
    return toFile(rows[0]);
  }

  async deleteFile(m: EntityManager, id: string): Promise<void> {
    await m.query(`DELETE FROM org_files WHERE id = $1`, [id]);
  }

  /** Changes one folder row only: what it holds is untouched (O(1) whatever its size). */
  async relocateFolder(
    m: EntityManager,
    id: string,
    parentId: string,
    name: string,
  ): Promise<OrgFolder> {
    const rows = returned<FolderRow>(
      await m.query(
        `UPDATE org_folders SET parent_id = $2, name = $3, version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, parentId, name],
      ),
    );
    return toFolder(rows[0]);
  }

  /** Adds to a folder's own file count and bytes. */
  async addToCounts(
    m: EntityManager,
    folderId: string,
    files: number,
    bytes: number,
  ): Promise<void> {
    if (files === 0 && bytes === 0) return;
    await m.query(
      `UPDATE org_folders SET file_count = file_count + $2, byte_count = byte_count + $3
       WHERE id = $1`,
      [folderId, files, bytes],
    );
  }

  /** The ids of `folderId`'s ancestors, nearest first (the root last). */
  async ancestorIds(m: EntityManager, folderId: string): Promise<string[]> {
    const rows = await m.query<{ id: string }[]>(
      `WITH RECURSIVE up(id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM org_folders WHERE id = $1
         UNION ALL
         SELECT f.id, f.parent_id, u.depth + 1 FROM org_folders f JOIN up u ON f.id = u.parent_id
       )
       SELECT id FROM up WHERE depth > 0 ORDER BY depth`,
      [folderId],
    );
    return rows.map((r) => r.id);
  }

  /** A folder's canonical path ('' for the root); null when the folder is gone or deleted. */
  async folderPath(m: EntityManager, folderId: string): Promise<string | null> {
    const rows = await m.query<{ name: string; parent_id: string | null }[]>(
      `WITH RECURSIVE up(id, parent_id, name, depth) AS (
         SELECT id, parent_id, name, 0 FROM org_folders WHERE id = $1 AND deleted_by IS NULL
         UNION ALL
         SELECT f.id, f.parent_id, f.name, u.depth + 1 FROM org_folders f JOIN up u ON f.id = u.parent_id
       )
       SELECT name, parent_id FROM up ORDER BY depth DESC`,
      [folderId],
    );
    if (rows.length === 0) return null;
    return rows
      .filter((r) => r.parent_id !== null)
      .map((r) => r.name)
      .join('/');
  }

  /** Every folder of the subtree under `folderId` (itself included), with relative paths. */
  async subtree(m: EntityManager, folderId: string): Promise<SubtreeFolder[]> {
    const rows = await m.query<{ id: string; rel_path: string }[]>(
      `${SUBTREE} SELECT id, rel_path FROM sub`,
      [folderId],
    );
    return rows.map((r) => ({ id: r.id, relPath: r.rel_path }));
  }

  /** Bytes, files and folders under `folderId`, summed over its folders' counts (no file is read). */
  async stats(
    m: EntityManager,
    folderId: string,
  ): Promise<{ bytes: number; files: number; folders: number }> {
    const [row] = await m.query<{ bytes: string; files: string; folders: string }[]>(
      `${SUBTREE}
       SELECT coalesce(sum(f.byte_count), 0) AS bytes, coalesce(sum(f.file_count), 0) AS files,
              count(*) - 1 AS folders
       FROM sub JOIN org_folders f ON f.id = sub.id`,
      [folderId],
    );
    return { bytes: Number(row.bytes), files: Number(row.files), folders: Number(row.folders) };
  }

  /**
   * Marks the subtree of `topId` (`ids`, its folders) deleted by the job `deleteId`, in one statement whatever
   * the folders hold, and frees the top's name in its parent: a name with a '/' no path can name. Answers
   * the files and bytes the subtree holds (its folders' counters).
   */
  async markDeleted(
    m: EntityManager,
    topId: string,
    ids: string[],
    deleteId: string,
  ): Promise<{ files: number; bytes: number }> {
    const [row] = await m.query<{ files: string; bytes: string }[]>(
      `WITH marked AS (
         UPDATE org_folders
         SET deleted_by = $2, version = version + 1, updated_at = now(),
             name = CASE WHEN id = $3 THEN 'deleted/' || id ELSE name END
         WHERE id = ANY($1)
         RETURNING file_count, byte_count
       )
       SELECT coalesce(sum(file_count), 0) AS files, coalesce(sum(byte_count), 0) AS bytes FROM marked`,
      [ids, deleteId, topId],
    );
    return { files: Number(row.files), bytes: Number(row.bytes) };
  }

  /**
   * Deletes the next `limit` files of these folders (id order) and returns them. `NOWAIT`, as the move
   * worker's locks: a request holding one of them makes this fail at once (55P03); the worker retries.
   */
  async deleteNextFiles(m: EntityManager, folderIds: string[], limit: number): Promise<OrgFile[]> {
    const rows = returned<FileRow>(
      await m.query(
        `DELETE FROM org_files
         WHERE id IN (SELECT id FROM org_files WHERE folder_id = ANY($1)
                      ORDER BY id LIMIT $2 FOR UPDATE NOWAIT)
         RETURNING *`,
        [folderIds, limit],
      ),
    );
    return rows.map(toFile);
  }

  async deleteFolders(m: EntityManager, ids: string[]): Promise<void> {
    await m.query(`DELETE FROM org_folders WHERE id = ANY($1)`, [ids]);
  }

  /**
   * The next files of a subtree after `afterId` (id order), locked and bumped to their next version.
   * `NOWAIT`: when a request holds one of them, this fails at once (55P03) instead of queueing behind it,
   * so the background worker never waits on, nor deadlocks with, a request; it retries later.
   */
  async bumpFilesIn(
    m: EntityManager,
    folderIds: string[],
    afterId: string,
    limit: number,
  ): Promise<OrgFile[]> {
    const rows = returned<FileRow>(
      await m.query(
        `UPDATE org_files SET version = version + 1
         WHERE id IN (SELECT id FROM org_files WHERE folder_id = ANY($1) AND id > $2
                      ORDER BY id LIMIT $3 FOR UPDATE NOWAIT)
         RETURNING *`,
        [folderIds, afterId, limit],
      ),
    );
    return rows.map(toFile).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async addPurges(m: EntityManager, files: readonly StoredFileRef[]): Promise<void> {
    if (files.length === 0) return;
    await m.query(
      `INSERT INTO org_file_purges (object_key, org_id)
       SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT DO NOTHING`,
      [files.map((f) => f.objectKey), files.map((f) => f.orgId)],
    );
  }

  /** The oldest pending purges that name their org (older rows are left to `sweep-orphans`). */
  async pendingPurges(limit: number): Promise<StoredFileRef[]> {
    return this.manager.query(
      `SELECT org_id AS "orgId", object_key AS "objectKey" FROM org_file_purges
       WHERE org_id IS NOT NULL ORDER BY created_at LIMIT $1`,
      [limit],
    );
  }

  async removePurges(objectKeys: string[]): Promise<void> {
    await this.manager.query(`DELETE FROM org_file_purges WHERE object_key = ANY($1)`, [
      objectKeys,
    ]);
  }

  /** Queues the removal of a folder's files; answers the job's id (what its folders are marked with). */
  async addFolderDelete(
    m: EntityManager,
    orgId: string,
    folderId: string,
    path: string,
    actor: EventActor,
  ): Promise<string> {
    const [row] = await m.query<{ id: string }[]>(
      `INSERT INTO org_folder_deletes (org_id, folder_id, path, actor) VALUES ($1, $2, $3, $4)
       RETURNING id`,
      [orgId, folderId, path, JSON.stringify(actor)],
    );
    return row.id;
  }

  /** The oldest pending folder delete no other worker holds, locked for this transaction. */
  async claimFolderDelete(m: EntityManager): Promise<FolderDeleteJob | null> {
    const rows = await m.query<
      { id: string; folder_id: string; path: string; actor: EventActor }[]
    >(`SELECT * FROM org_folder_deletes ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`);
    const r = rows[0];
    return r ? { id: r.id, folderId: r.folder_id, path: r.path, actor: r.actor } : null;
  }

  async finishFolderDelete(m: EntityManager, id: string): Promise<void> {
    await m.query(`DELETE FROM org_folder_deletes WHERE id = $1`, [id]);
  }

  async pendingFolderDeletes(): Promise<number> {
    const [row] = await this.manager.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM org_folder_deletes`,
    );
    return Number(row.n);
  }

  async addFolderMove(
    m: EntityManager,
    orgId: string,
    folderId: string,
    actor: EventActor,
  ): Promise<void> {
    await m.query(`INSERT INTO org_folder_moves (org_id, folder_id, actor) VALUES ($1, $2, $3)`, [
      orgId,
      folderId,
      JSON.stringify(actor),
    ]);
  }

  /** The oldest pending folder move no other worker holds, locked for this transaction. */
  async claimFolderMove(m: EntityManager): Promise<FolderMoveJob | null> {
    const rows = await m.query<
      { id: string; org_id: string; folder_id: string; actor: EventActor; after_file_id: string }[]
    >(`SELECT * FROM org_folder_moves ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`);
    const r = rows[0];
    return r
      ? {
          id: r.id,
          orgId: r.org_id,
          folderId: r.folder_id,
          actor: r.actor,
          afterFileId: r.after_file_id,
        }
      : null;
  }

  async advanceFolderMove(m: EntityManager, id: string, afterFileId: string): Promise<void> {
    await m.query(`UPDATE org_folder_moves SET after_file_id = $2 WHERE id = $1`, [
      id,
      afterFileId,
    ]);
  }

  async finishFolderMove(m: EntityManager, id: string): Promise<void> {
    await m.query(`DELETE FROM org_folder_moves WHERE id = $1`, [id]);
  }

  async pendingFolderMoves(): Promise<number> {
    const [row] = await this.manager.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM org_folder_moves`,
    );
    return Number(row.n);
  }

  /** The live file stored under this key (none in a deleted folder, whose files are on their way out). */
  async findByObjectKey(objectKey: string): Promise<OrgFile | null> {
    const rows = await this.manager.query<FileRow[]>(
      `SELECT f.* FROM org_files f JOIN org_folders d ON d.id = f.folder_id AND d.deleted_by IS NULL
       WHERE f.object_key = $1`,
      [objectKey],
    );
    return rows[0] ? toFile(rows[0]) : null;
  }

  /** A page (by id) of the live files of one org (none in a deleted folder). */
  async listFiles(page: { orgId: string; afterId?: string; limit: number }): Promise<OrgFile[]> {
    const rows = await this.manager.query<FileRow[]>(
      `SELECT f.* FROM org_files f JOIN org_folders d ON d.id = f.folder_id AND d.deleted_by IS NULL
       WHERE f.org_id = $1 AND f.id > $2
       ORDER BY f.id LIMIT $3`,
      [page.orgId, page.afterId ?? '', page.limit],
    );
    return rows.map(toFile);
  }
}
