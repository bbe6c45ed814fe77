import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface RunFileRow {
  id: string;
  orgId: string;
  orgKey: string;
  workflowId: string;
  runId: string;
  edge: string;
  direction: 'input' | 'output';
  objectKey: string;
  filename: string;
  sizeBytes: number;
  contentType: string | null;
  etag: string | null;
  createdBy: string | null;
  version: number;
}

const COLUMNS = `id, org_id AS "orgId", org_key AS "orgKey", workflow_id AS "workflowId",
  run_id AS "runId", edge, direction, object_key AS "objectKey", filename,
  size_bytes::float8 AS "sizeBytes", content_type AS "contentType", etag, created_by AS "createdBy", version`;

/** The only file touching `run_files`. */
@Injectable()
export class RunFilesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Inserts the file unless its key is recorded already; returns the new row, or null for a repeat. */
  async insert(manager: EntityManager, f: RunFileRow): Promise<RunFileRow | null> {
    const rows = await manager.query<RunFileRow[]>(
      `INSERT INTO run_files (id, org_id, org_key, workflow_id, run_id, edge, direction, object_key,
                              filename, size_bytes, content_type, etag, created_by, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (object_key) DO NOTHING RETURNING ${COLUMNS}`,
      [
        f.id,
        f.orgId,
        f.orgKey,
        f.workflowId,
        f.runId,
        f.edge,
        f.direction,
        f.objectKey,
        f.filename,
        f.sizeBytes,
        f.contentType,
        f.etag,
        f.createdBy,
        f.version,
      ],
    );
    return rows[0] ?? null;
  }

  async findByKey(objectKey: string): Promise<RunFileRow | null> {
    const rows = await this.db.query<RunFileRow[]>(
      `SELECT ${COLUMNS} FROM run_files WHERE object_key = $1`,
      [objectKey],
    );
    return rows[0] ?? null;
  }

  async latest(
    orgId: string,
    workflowId: string,
    direction: 'input' | 'output',
    filename: string,
  ): Promise<RunFileRow | null> {
    const rows = await this.db.query<RunFileRow[]>(
      `SELECT ${COLUMNS} FROM run_files
       WHERE org_id = $1 AND workflow_id = $2 AND direction = $3 AND filename = $4
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      [orgId, workflowId, direction, filename],
    );
    return rows[0] ?? null;
  }

  /** A keyset page (by id) of the run files of one org. */
  async page(orgId: string, afterId: string | undefined, limit: number) {
    const rows = await this.db.query<RunFileRow[]>(
      `SELECT ${COLUMNS} FROM run_files
       WHERE org_id = $1 AND ($2::uuid IS NULL OR id > $2)
       ORDER BY id LIMIT $3`,
      [orgId, afterId ?? null, limit],
    );
    return rows;
  }
}
