import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ObjectContentType, ObjectState } from '@lib/contracts';
import { queryPrepared } from '@lib/database';
import { MicroBatcher } from '@lib/queue';
import type { QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { ObjectEntity } from './object.entity';

/** Which objects a listing covers: one org's, or the published ones of every org (`list_public`). */
export type ListScope = { orgId: string } | { published: true };

export interface ListFilter {
  /** Keyset cursor: only ids below it (older objects). */
  startingAfter?: string;
  /** Case-insensitive substring of the name. */
  name?: string;
  contentType?: ObjectContentType;
  /** Without it, every state but DELETED. */
  state?: ObjectState;
  /** The exact id, or a case-insensitive substring of the name. */
  search?: string;
}

interface ObjectRow {
  id: string;
  org_id: string;
  org_key: string;
  name: string;
  content_type: ObjectContentType;
  state: ObjectState;
  size_bytes: string | null;
  metadata: Record<string, string> | null;
  object_key: string;
  etag: string | null;
  created_by: string | null;
  create_time_ms: string;
  delete_after_time_ms: string | null;
  is_public: boolean;
  purge_pending: boolean;
  late_purge_at_ms: string | null;
  version: number;
}

/**
 * The columns of an `ObjectRow`, for prepared statements: a `SELECT *` prepared before a migration adds a
 * column would fail with "cached plan must not change result type" until its connection closes.
 */
const ROW_COLUMNS = `id, org_id, org_key, name, content_type, state, size_bytes, metadata, object_key, etag,
  created_by, create_time_ms, delete_after_time_ms, is_public, purge_pending, late_purge_at_ms, version`;

/** Reads that wait for no timer; at most this many statements at once, the rest gather meanwhile. */
const HOT_READ_BATCH = { maxSize: 256, lingerMs: 0, maxInFlight: 4 };

const toNumber = (v: string | null) => (v === null ? null : Number(v));

function toEntity(r: ObjectRow): ObjectEntity {
  return {
    id: r.id,
    orgId: r.org_id,
    orgKey: r.org_key,
    name: r.name,
    contentType: r.content_type,
    state: r.state,
    sizeBytes: toNumber(r.size_bytes),
    metadata: r.metadata,
    objectKey: r.object_key,
    etag: r.etag,
    createdBy: r.created_by,
    createTimeMs: Number(r.create_time_ms),
    deleteAfterTimeMs: toNumber(r.delete_after_time_ms),
    isPublic: r.is_public,
    purgePending: r.purge_pending,
    latePurgeAtMs: toNumber(r.late_purge_at_ms),
    version: r.version,
  };
}

/**
 * The columns a delete or an expiry sets: DELETED, unpublished, bytes to purge now, and again once the
 * create's upload URL has expired if it is still valid (`$late`: its lifetime plus a margin, in ms) and
 * names the object's key, i.e. the object was still UPLOADING (complete moves the bytes to a key no URL
 * names). `state` on the right is the row's state before this UPDATE.
 */
const deletedColumns = (now: string, late: string) => `
  state = 'DELETED', is_public = false, purge_pending = true, version = version + 1,
  late_purge_at_ms = CASE WHEN state = 'UPLOADING' AND create_time_ms + ${late} > ${now}
    THEN create_time_ms + ${late} END`;

/** `%…%` for ILIKE, with the pattern characters of the user's text taken literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The rows of an UPDATE … RETURNING (TypeORM answers `[rows, count]` for UPDATEs on Postgres). */
function updatedRows(result: unknown): ObjectRow[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as ObjectRow[];
}

/**
 * The only place that touches the `objects` table. State changes are single `UPDATE … RETURNING`
 * statements guarded by the expected state, so they lock the row, bump `version` and tell the caller
 * whether they won a race, in one round trip.
 */
@Injectable()
export class ObjectsRepository {
  /**
   * The hot single-object reads (get, download URL, public download) of concurrent requests, one prepared
   * statement per batch: a query's fixed cost (a socket write and read on each side, Postgres' executor
   * start) dwarfs a primary-key row, so under load the requests of one event loop turn share one. At rest a
   * read goes alone at the next turn (no timer). Its pg span belongs to the trace of the batch's first caller.
   */
  private readonly byId = new MicroBatcher<string, ObjectRow | null>({
    ...HOT_READ_BATCH,
    run: (ids) => this.rowsWhereIn('objects.by_ids', 'id', ids),
  });
  private readonly readableByKey = new MicroBatcher<string, ObjectRow | null>({
    ...HOT_READ_BATCH,
    run: (keys) => this.rowsWhereIn('objects.readable_by_keys', 'object_key', keys),
  });

  /** Listing statement text → its prepared statement's name (see `prepared`). */
  private readonly statementNames = new Map<string, string>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction: a state change and its outbox event commit together or not at all. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Inserts `objects` in one statement whatever their number (one JSON parameter; see OutboxWriter.insert):
   * concurrent creates share one transaction and one commit (ObjectsService.create).
   */
  async insertMany(manager: EntityManager, objects: readonly ObjectEntity[]): Promise<void> {
    await manager.query(
      `INSERT INTO objects (id, org_id, org_key, name, content_type, state, size_bytes, metadata,
         object_key, etag, created_by, create_time_ms, delete_after_time_ms, is_public, purge_pending,
         late_purge_at_ms, version)
       SELECT r.id, r.org_id, r.org_key, r.name, r.content_type, r.state, r.size_bytes, r.metadata,
         r.object_key, r.etag, r.created_by, r.create_time_ms, r.delete_after_time_ms, r.is_public,
         r.purge_pending, r.late_purge_at_ms, r.version
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, org_id uuid, org_key text, name text,
         content_type text, state text, size_bytes bigint, metadata jsonb, object_key text, etag text,
         created_by uuid, create_time_ms bigint, delete_after_time_ms bigint, is_public boolean,
         purge_pending boolean, late_purge_at_ms bigint, version int)`,
      [
        JSON.stringify(
          objects.map((o) => ({
            id: o.id,
            org_id: o.orgId,
            org_key: o.orgKey,
            name: o.name,
            content_type: o.contentType,
            state: o.state,
            size_bytes: o.sizeBytes,
            metadata: o.metadata,
            object_key: o.objectKey,
            etag: o.etag,
            created_by: o.createdBy,
            create_time_ms: o.createTimeMs,
            delete_after_time_ms: o.deleteAfterTimeMs,
            is_public: o.isPublic,
            purge_pending: o.purgePending,
            late_purge_at_ms: o.latePurgeAtMs,
            version: o.version,
          })),
        ),
      ],
    );
  }

  /** Within `manager`'s transaction when given; else a batched read (the get/download hot path). */
  async findInOrg(
    orgId: string,
    id: string,
    manager?: EntityManager,
  ): Promise<ObjectEntity | null> {
    const row = manager
      ? (
          await manager.query<ObjectRow[]>(
            `SELECT ${ROW_COLUMNS} FROM objects WHERE id = $1 AND org_id = $2`,
            [id, orgId],
          )
        )[0]
      : await this.byId.submit(id);
    return row && row.org_id === orgId ? toEntity(row) : null;
  }

  /** The READ_ONLY object stored under this S3 key (bytes uploaded and confirmed), if any. */
  async findReadableByKey(objectKey: string): Promise<ObjectEntity | null> {
    const row = await this.readableByKey.submit(objectKey);
    return row && row.state === 'READ_ONLY' ? toEntity(row) : null;
  }

  /** The row of each value of a unique `column` (null for none), in one prepared statement. */
  private async rowsWhereIn(
    name: string,
    column: 'id' | 'object_key',
    values: string[],
  ): Promise<Map<string, ObjectRow | null>> {
    const rows = await queryPrepared<ObjectRow>(
      this.dataSource,
      name,
      `SELECT ${ROW_COLUMNS} FROM objects WHERE ${column} = ANY($1::text[])`,
      [values],
    );
    const found = new Map<string, ObjectRow | null>(values.map((v) => [v, null]));
    for (const row of rows) found.set(row[column], row);
    return found;
  }

  /** A keyset page (by id) of the objects of one org that are not DELETED. */
  async listNotDeleted(page: {
    orgId: string;
    afterId?: string;
    limit: number;
  }): Promise<ObjectEntity[]> {
    const rows = await this.dataSource.query<ObjectRow[]>(
      `SELECT * FROM objects WHERE org_id = $1 AND state <> 'DELETED' AND id > $2 ORDER BY id LIMIT $3`,
      [page.orgId, page.afterId ?? '', page.limit],
    );
    return rows.map(toEntity);
  }

  async findById(id: string): Promise<ObjectEntity | null> {
    const rows = await this.dataSource.query<ObjectRow[]>(`SELECT * FROM objects WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /**
   * UPLOADING → READ_ONLY with the completed bytes: their key, size and ETag. Null when the object is not
   * (or no longer) UPLOADING.
   */
  async markCompleted(
    manager: EntityManager,
    orgId: string,
    id: string,
    objectKey: string,
    stored: { sizeBytes: number; etag: string | null },
  ): Promise<ObjectEntity | null> {
    const rows = updatedRows(
      await manager.query(
        `UPDATE objects SET state = 'READ_ONLY', object_key = $3, size_bytes = $4, etag = $5,
           version = version + 1
         WHERE id = $1 AND org_id = $2 AND state = 'UPLOADING'
         RETURNING *`,
        [id, orgId, objectKey, stored.sizeBytes, stored.etag],
      ),
    );
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /** Any live state → DELETED, unpublished, bytes to purge; null when missing or already DELETED. */
  async markDeleted(
    manager: EntityManager,
    orgId: string,
    id: string,
    now: number,
    latePurgeAfterMs: number,
  ): Promise<ObjectEntity | null> {
    const rows = updatedRows(
      await manager.query(
        `UPDATE objects SET ${deletedColumns('$3', '$4')}
         WHERE id = $1 AND org_id = $2 AND state <> 'DELETED'
         RETURNING *`,
        [id, orgId, now, latePurgeAfterMs],
      ),
    );
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /** Whether a live object's deadline is at or before `now` (index objects_due). */
  async anyDue(now: number): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM objects
       WHERE state <> 'DELETED' AND delete_after_time_ms IS NOT NULL AND delete_after_time_ms <= $1 LIMIT 1`,
      [now],
    );
    return rows.length > 0;
  }

  /**
   * TTL expiry: up to `max` live objects whose deadline is at or before `now`, most overdue first (index
   * objects_due), turn DELETED (unpublished, bytes to purge). Rows another transaction holds (a delete, a
   * complete, another replica's sweep) are skipped, not waited for: the next sweep finds them if they are
   * still due. Returns the rows it changed.
   */
  async expireDue(
    manager: EntityManager,
    now: number,
    max: number,
    latePurgeAfterMs: number,
  ): Promise<ObjectEntity[]> {
    const rows = updatedRows(
      await manager.query(
        `UPDATE objects SET ${deletedColumns('$1', '$3')}
         WHERE id IN (
           SELECT id FROM objects
           WHERE state <> 'DELETED' AND delete_after_time_ms IS NOT NULL AND delete_after_time_ms <= $1
           ORDER BY delete_after_time_ms LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, max, latePurgeAfterMs],
      ),
    );
    return rows.map(toEntity);
  }

  async findByIds(ids: string[]): Promise<ObjectEntity[]> {
    const rows = await this.dataSource.query<ObjectRow[]>(
      `SELECT * FROM objects WHERE id = ANY($1)`,
      [ids],
    );
    return rows.map(toEntity);
  }

  /** The bytes of these DELETED objects are confirmed gone. */
  async clearPurgePending(ids: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE objects SET purge_pending = false WHERE id = ANY($1) AND purge_pending`,
      [ids],
    );
  }

  /** Publishes or unpublishes a live object; null when it is missing or DELETED. Not a file change. */
  async setPublic(orgId: string, id: string, isPublic: boolean): Promise<ObjectEntity | null> {
    const rows = updatedRows(
      await this.dataSource.query(
        `UPDATE objects SET is_public = $3
         WHERE id = $1 AND org_id = $2 AND state <> 'DELETED'
         RETURNING *`,
        [id, orgId, isPublic],
      ),
    );
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /**
   * One page, newest first: `limit` rows of `scope` matching `filter` with ids below the cursor. Keyset
   * pagination on the time-ordered id: an insert lands above every cursor and a delete only removes its
   * own row, so a walk through the pages neither repeats nor skips an object.
   */
  async list(scope: ListScope, filter: ListFilter, limit: number): Promise<ObjectEntity[]> {
    const { where, params } = this.where(scope, filter, true);
    params.push(limit);
    const rows = await this.prepared<ObjectRow>(
      `SELECT ${ROW_COLUMNS} FROM objects WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntity);
  }

  /**
   * How many objects of `scope` match `filter`, all pages together. Without a `name` or `search` filter it
   * is a sum over `object_counts` (what the triggers on `objects` record per org, publication, state and
   * content type), whatever the number of objects; with one, the matching rows are counted (the trigram
   * index finds them, and the cost grows with how many match).
   */
  async count(scope: ListScope, filter: ListFilter): Promise<number> {
    if (filter.name === undefined && filter.search === undefined) {
      return this.countRecorded(scope, filter);
    }
    const { where, params } = this.where(scope, filter, false);
    const [row] = await this.prepared<{ n: number }>(
      `SELECT count(*)::int AS n FROM objects WHERE ${where}`,
      params,
    );
    return row.n;
  }

  /**
   * The count by scope, state and content type, from the rows the triggers append (`count`): `where`
   * without `name`, `search` or the cursor names only columns `object_counts` has.
   */
  private async countRecorded(scope: ListScope, filter: ListFilter): Promise<number> {
    const { where, params } = this.where(scope, filter, false);
    const [row] = await this.prepared<{ n: string }>(
      `SELECT coalesce(sum(delta), 0)::bigint AS n FROM object_counts WHERE ${where}`,
      params,
    );
    return Number(row.n);
  }

  /**
   * Folds the rows `object_counts` holds for up to `maxGroups` groups (the groups with the most rows first)
   * into one row each, and drops groups that sum to zero; counts read the same before and after. Returns
   * how many groups it folded and rows it removed and wrote, or null when another compaction was running
   * (it then does nothing).
   *
   * Exact under concurrent writes: the rows it deletes and the sums it writes back commit together, and
   * rows a concurrent transaction appends are not in its snapshot, so they are neither deleted nor summed.
   * Two compactions at once would still be exact (the second waits for the rows the first locked, finds
   * them deleted and skips them, so it sums only what it deleted itself), but could deadlock on each
   * other's row locks; the advisory lock lets one run and the other return. Writers never lock a row of
   * this table (they only insert), so they never wait for a compaction.
   */
  async compactCounts(
    maxGroups: number,
  ): Promise<{ groups: number; removed: number; written: number } | null> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtextextended('object_counts compaction', 0)) AS locked`,
      );
      if (!locked) return null;
      const [row] = await manager.query<{ groups: string; removed: string; written: string }[]>(
        `WITH chosen AS MATERIALIZED (
           SELECT org_id, is_public, state, content_type FROM object_counts
           GROUP BY org_id, is_public, state, content_type
           HAVING count(*) > 1 OR sum(delta) = 0
           ORDER BY count(*) DESC
           LIMIT $1
         ), gone AS (
           DELETE FROM object_counts c USING chosen g
           WHERE c.org_id = g.org_id AND c.is_public = g.is_public AND c.state = g.state
             AND c.content_type = g.content_type
           RETURNING c.org_id, c.is_public, c.state, c.content_type, c.delta
         ), written AS (
           INSERT INTO object_counts (org_id, is_public, state, content_type, delta)
           SELECT org_id, is_public, state, content_type, sum(delta) FROM gone
           GROUP BY org_id, is_public, state, content_type
           HAVING sum(delta) <> 0
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM chosen) AS groups, (SELECT count(*) FROM gone) AS removed,
           (SELECT count(*) FROM written) AS written`,
        [maxGroups],
      );
      return {
        groups: Number(row.groups),
        removed: Number(row.removed),
        written: Number(row.written),
      };
    });
  }

  /**
   * A listing statement, prepared once per connection: its text depends only on which filters are present
   * (at most 64 shapes for the listings and counts of rows, 8 for the recorded counts; the values are
   * parameters), so each shape gets a name and Postgres parses and plans it once instead of per request.
   */
  private prepared<T extends QueryResultRow>(text: string, params: unknown[]): Promise<T[]> {
    let name = this.statementNames.get(text);
    if (name === undefined) {
      name = `objects.list_${this.statementNames.size}`;
      this.statementNames.set(text, name);
    }
    return queryPrepared<T>(this.dataSource, name, text, params);
  }

  private where(scope: ListScope, filter: ListFilter, withCursor: boolean) {
    const params: unknown[] = [];
    const clauses: string[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if ('orgId' in scope) clauses.push(`org_id = ${param(scope.orgId)}`);
    else clauses.push('is_public');
    // The literal predicate matches the partial index objects_org_live_id.
    clauses.push(
      filter.state === undefined ? `state <> 'DELETED'` : `state = ${param(filter.state)}`,
    );
    if (withCursor && filter.startingAfter !== undefined) {
      clauses.push(`id < ${param(filter.startingAfter)}`);
    }
    if (filter.contentType !== undefined) {
      clauses.push(`content_type = ${param(filter.contentType)}`);
    }
    if (filter.name !== undefined)
      clauses.push(`name ILIKE ${param(containsPattern(filter.name))}`);
    if (filter.search !== undefined) {
      clauses.push(
        `(id = ${param(filter.search.toLowerCase())} OR name ILIKE ${param(containsPattern(filter.search))})`,
      );
    }
    return { where: clauses.join(' AND '), params };
  }

  /** Distinct metadata keys of the org's live objects, sorted. */
  async metadataKeys(orgId: string, max: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ key: string }[]>(
      `SELECT DISTINCT k.key FROM objects o, jsonb_object_keys(o.metadata) AS k(key)
       WHERE o.org_id = $1 AND o.state <> 'DELETED' AND o.metadata IS NOT NULL
       ORDER BY k.key LIMIT $2`,
      [orgId, max],
    );
    return rows.map((r) => r.key);
  }

  /** Distinct values of one metadata key over the org's live objects, sorted. */
  async metadataValues(orgId: string, key: string, max: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ value: string }[]>(
      `SELECT DISTINCT o.metadata ->> $2 AS value FROM objects o
       WHERE o.org_id = $1 AND o.state <> 'DELETED' AND o.metadata ? $2
       ORDER BY value LIMIT $3`,
      [orgId, key, max],
    );
    return rows.map((r) => r.value);
  }

  /** Deleted objects whose late purge is due (index objects_late_purge), oldest first. */
  async findLatePurgesDue(now: number, max: number): Promise<ObjectEntity[]> {
    const rows = await this.dataSource.query<ObjectRow[]>(
      `SELECT * FROM objects WHERE late_purge_at_ms <= $1 ORDER BY late_purge_at_ms LIMIT $2`,
      [now, max],
    );
    return rows.map(toEntity);
  }

  async clearLatePurge(ids: string[]): Promise<void> {
    await this.dataSource.query(`UPDATE objects SET late_purge_at_ms = NULL WHERE id = ANY($1)`, [
      ids,
    ]);
  }

  /** DELETED objects whose bytes are not confirmed gone (index objects_purge_pending). */
  async findPurgePending(max: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM objects WHERE purge_pending LIMIT $1`,
      [max],
    );
    return rows.map((r) => r.id);
  }
}
