import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ObjectContentType, ObjectState } from '@lib/contracts';

// bigint columns come back from pg as strings; these fit in a double (ms timestamps, byte sizes < 2^53).
const bigintAsNumber = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/** An Objects API object: one stored file with its state, metadata and TTL. */
@Entity({ name: 'objects' })
export class ObjectEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'uuid' })
  orgId!: string;

  @Column({ type: 'text' })
  orgKey!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  contentType!: ObjectContentType;

  @Column({ type: 'text' })
  state!: ObjectState;

  /** Null until complete records the uploaded size; kept once DELETED (the last known size). */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  sizeBytes!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: Record<string, string> | null;

  /** The S3 key of the bytes: `{orgKey}/objects/{objectId}/{token}`. */
  @Column({ type: 'text' })
  objectKey!: string;

  /** S3's ETag of the bytes, recorded on complete. */
  @Column({ type: 'text', nullable: true })
  etag!: string | null;

  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  createTimeMs!: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  deleteAfterTimeMs!: number | null;

  /** Listed by `list_public` (the publish/unpublish extension); a delete unpublishes. */
  @Column({ type: 'boolean' })
  isPublic!: boolean;

  /** DELETED, but the bytes are not confirmed gone from S3 yet (a purge job and the reconciler retry). */
  @Column({ type: 'boolean' })
  purgePending!: boolean;

  /**
   * Set when an object is deleted while its create's upload URL is still valid: bytes PUT with it later
   * would be orphaned, so the reconciler removes them once more at this time (after the URL expired).
   */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  latePurgeAtMs!: number | null;

  /** Grows by one per change; carried by `storage_file.updated` so consumers can order a file's events. */
  @Column({ type: 'int' })
  version!: number;
}
