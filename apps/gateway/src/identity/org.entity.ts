import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'orgs' })
export class OrgEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Stable slug, unique; appears in object keys and the `org_key` JWT claim. */
  @Column('text')
  key!: string;

  @Column('text')
  name!: string;

  @Column('text', { array: true })
  capabilities!: string[];

  @Column('timestamptz')
  createdAt!: Date;
}
