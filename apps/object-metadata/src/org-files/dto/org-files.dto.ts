import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import { ORG_STORAGE_LIMITS, PageLimit } from '@lib/contracts';

// Internal commands from the gateway, which authenticated the org: the org is the principal's of the call.
// Paths and names are checked by the service with @lib/contracts' checkOrgPath / checkOrgName (the same
// checks as the gateway's); here they only need to be strings of a sane length.

const PATH_CHARS = 4 * ORG_STORAGE_LIMITS.pathBytes;

export class OrgPathQueryDto {
  @IsOptional()
  @IsString()
  @Length(0, PATH_CHARS)
  path?: string;
}

/** One page of a folder listing; the cursor is checked by the service (`checkOrgListCursor`). */
export class OrgListQueryDto extends OrgPathQueryDto {
  @PageLimit(ORG_STORAGE_LIMITS.list.max)
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 2048)
  cursor?: string;
}

export class OrgRequiredPathQueryDto {
  @IsString()
  @Length(0, PATH_CHARS)
  path!: string;
}

export class OrgCommandDto {
  /** RFC 9110 `If-Match` of the client, passed through. */
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  ifMatch?: string;
}

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

export class OrgCopyDto extends OrgCommandDto {
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

export class OrgCommitUploadDto extends OrgCommandDto {
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
