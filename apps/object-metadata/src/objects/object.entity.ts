import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ObjectState = ['UPLOADING', 'READ_ONLY', 'DELETED', 'ERROR'] as const;
export type ObjectState = (typeof ObjectState)[number];

export const ObjectContentType = ['unspecified', 'text', 'binary', 'gzip', 'tar', 'tgz'] as const;
export type ObjectContentType = (typeof ObjectContentType)[number];

// bigint columns come back from pg as strings; these fit in a double (ms timestamps, byte sizes < 2^53).
const bigintAsNumber = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/** An Objects API object (seed 001): one stored file with its state, metadata and TTL. */
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

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  sizeBytes!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: Record<string, string> | null;

  /** The S3 key of the bytes: `{orgKey}/objects/{objectId}/{token}` (SPEC 4.2). */
  @Column({ type: 'text' })
  objectKey!: string;

  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  createTimeMs!: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  deleteAfterTimeMs!: number | null;

  /** Grows by one per change; carried by `storage_file.updated` so consumers can order a file's events. */
  @Column({ type: 'int' })
  version!: number;
}
