import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { EventActor } from './events';

/** An org key: 2-63 lowercase letters, digits and dashes (the `orgs.key` CHECK of identity). */
export const ORG_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * Who an internal call acts for: the org, always, and who in it. The caller signs it into its service
 * token (`@lib/internal-http`): the gateway from the credential it authenticated, a service from the record
 * it works on. Services take the org from here, never from a body, query or path.
 */
export class ServicePrincipal {
  @IsUUID()
  orgId!: string;

  /** The org's key, the first segment of each of its S3 keys. */
  @Matches(ORG_KEY_PATTERN)
  orgKey!: string;

  /** The user the call acts for (the files it stores count as theirs); null for org-wide keys and the platform. */
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  userId!: string | null;

  /** The user's role in the org; null without a user. */
  @ValidateIf((_, v) => v !== null)
  @IsIn(['admin', 'member'])
  role!: 'admin' | 'member' | null;

  /** Who acts, as the events of its changes name them. */
  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  /** The workflow the client's token is scoped to; null for an unscoped credential. */
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(64)
  workflowId!: string | null;
}

/**
 * flow-orchestrator → object-metadata (`POST /internal/run-files`): record a run's input or artifact (once,
 * by key); object-metadata owns every stored file's record.
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
