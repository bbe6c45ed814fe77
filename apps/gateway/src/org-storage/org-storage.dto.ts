import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ORG_STORAGE_LIMITS, PageLimit } from '@lib/contracts';

// Org storage's request shapes. Paths and names are strings here; their rules (relative, no `..`, NFC, …)
// are @lib/contracts' checkOrgPath / checkOrgName, applied by the controller so a 400 names the field.

const MAX = 4096;

export class OrgPathQuery {
  @ApiPropertyOptional({ description: 'Folder path, relative (`a/b`); `/` or absent for the root' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX)
  path?: string;
}

/** A page of a folder listing (extension: the org storage contract lists without pages). */
export class OrgListQuery extends OrgPathQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: ORG_STORAGE_LIMITS.list.max,
    default: ORG_STORAGE_LIMITS.list.default,
    description: 'Entries per page',
  })
  @PageLimit(ORG_STORAGE_LIMITS.list.max)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cursor?: string;
}

export class OrgRequiredPathQuery {
  @ApiProperty({ description: 'Relative path (`a/b/file.txt`)' })
  @IsString()
  @MaxLength(MAX)
  path!: string;
}

export class CreateFolderBody {
  @ApiProperty({ example: '2026' })
  @IsString()
  @MaxLength(MAX)
  name!: string;

  @ApiPropertyOptional({ description: 'Parent folder; the root when absent', example: 'reports' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX)
  path?: string;
}

export class RenameBody {
  @ApiProperty({ example: 'reports/q3.csv' })
  @IsString()
  @MaxLength(MAX)
  path!: string;

  @ApiProperty({ example: 'q3-final.csv' })
  @IsString()
  @MaxLength(MAX)
  new_name!: string;
}

export class MoveBody {
  @ApiProperty({ example: 'reports/q3.csv' })
  @IsString()
  @MaxLength(MAX)
  source_path!: string;

  @ApiProperty({
    description: 'The destination folder (not a full target name)',
    example: 'archive',
  })
  @IsString()
  @MaxLength(MAX)
  dest_path!: string;
}

export class CopyBody extends MoveBody {
  @ApiPropertyOptional({
    description: 'Name of the copy; the source name when absent',
    example: 'q3-copy.csv',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX)
  new_name?: string;
}
