import type { Role } from '@lib/auth';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  orgId!: string;

  /** Lower-cased; unique within the org. */
  @Column('text')
  email!: string;

  @Column('text')
  role!: Role;

  @Column('timestamptz')
  createdAt!: Date;
}
