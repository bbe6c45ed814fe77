import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

// object-metadata's run-file routes (`ObjectMetadataClient`, run files), for the org of the call's principal.

/**
 * Records a run's input or artifact (once, by key): the flow-orchestrator for its runs, the gateway for the
 * direct uploads to a workflow. object-metadata owns every stored file's record.
 */
export class RecordRunFileCommand {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  workflowId!: string;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  runId!: string;

  @IsString()
  @MaxLength(64)
  edge!: string;

  @IsIn(['input', 'output'])
  direction!: 'input' | 'output';

  @IsString()
  @MaxLength(1024)
  objectKey!: string;

  @IsString()
  @MaxLength(255)
  filename!: string;

  @IsInt()
  @Min(0)
  sizeBytes!: number;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  contentType?: string | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  etag?: string | null;
}

/** The answer to a record: the file's id, and whether this call created it (a repeat does not). */
export interface RecordedRunFile {
  objectId: string;
  created: boolean;
}

/** The newest live file of a workflow of the org with this name and direction. */
export class LatestRunFileQuery {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  workflowId!: string;

  @IsIn(['input', 'output'])
  direction!: 'input' | 'output';

  @IsString()
  @MaxLength(255)
  filename!: string;
}

/** A run file found by `LatestRunFileQuery`. */
export interface RunFileRef {
  objectKey: string;
  filename: string;
}
