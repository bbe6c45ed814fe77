import { IsUUID } from 'class-validator';
import { ObjectListParams } from '@lib/contracts';

/** The org an internal read is for (the gateway's authenticated principal). */
export class OrgQueryDto {
  @IsUUID()
  orgId!: string;
}

export class ListOrgObjectsQueryDto extends ObjectListParams {
  @IsUUID()
  orgId!: string;
}

/** `list_public` crosses orgs: no orgId. */
export class ListPublicObjectsQueryDto extends ObjectListParams {}
