import type { ApiKeyKind } from '@lib/auth';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  orgId!: string;

  /** The user a bearer key acts as; null for org-wide keys (always null for org private keys). */
  @Column('uuid', { nullable: true })
  userId!: string | null;

  @Column('text')
  kind!: ApiKeyKind;

  @Column('text')
  name!: string;

  /** The non-secret head of the key (`sfp_live_Ab3xY_`), to recognise it in listings. */
  @Column('text')
  prefix!: string;

  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  @Column('text')
  secretHash!: string;

  @Column('timestamptz')
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;
}
