import { IsInt, IsOptional, IsString, IsUUID, Length, Max, Min, ValidateIf } from 'class-validator';
import { ActingOrg, ActingOrgWriter, ORG_STORAGE_LIMITS, PageLimit } from '@lib/contracts';

// Internal commands from the gateway, which authenticated the org. Paths and names are checked by the
// service with @lib/contracts' parseOrgPath / parseOrgName (the same rules as the gateway's); here they
// only need to be strings of a sane length.

const PATH_CHARS = 4 * ORG_STORAGE_LIMITS.pathBytes;

export class OrgQueryDto {
  @IsUUID()
  orgId!: string;
}

export class OrgPathQueryDto extends OrgQueryDto {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;
}

/** One page of a folder listing; the cursor is checked by the service (`parseOrgListCursor`). */
export class OrgListQueryDto extends OrgPathQueryDto {
  @PageLimit(ORG_STORAGE_LIMITS.list.max)
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 2048)
  cursor?: string;
}

export class OrgRequiredPathQueryDto extends OrgQueryDto {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;
}

class IfMatchDto {
  /** RFC 9110 `If-Match` of the client, passed through. */
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  ifMatch?: string;
}

export class OrgCommandDto extends ActingOrg(IfMatchDto) {}

export class OrgDeleteDto extends OrgCommandDto {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;
}

export class OrgCreateFolderDto extends OrgCommandDto {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;

  @IsString()
  @Length(0, PATH_CHARS)
  name!: string;
}

export class OrgRenameDto extends OrgCommandDto {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  newName!: string;
}

export class OrgMoveDto extends OrgCommandDto {
  @IsString()
  @Length(0, PATH_CHARS)
  sourcePath!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  destPath!: string;
}

export class OrgOwnedCommandDto extends ActingOrgWriter(IfMatchDto) {}

export class OrgCopyDto extends OrgOwnedCommandDto {
  @IsString()
  @Length(0, PATH_CHARS)
  sourcePath!: string;

  @IsString()
  @Length(0, PATH_CHARS)
  destPath!: string;

  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  newName?: string;
}

export class OrgCommitUploadDto extends OrgOwnedCommandDto {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;

  @IsString()
  @Length(0, PATH_CHARS)
  name!: string;

  @IsString()
  @Length(1, 1024)
  objectKey!: string;

  @IsInt()
  @Min(0)
  @Max(ORG_STORAGE_LIMITS.uploadBytes)
  sizeBytes!: number;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 1024)
  s3Etag?: string | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 255)
  contentType?: string | null;
}
