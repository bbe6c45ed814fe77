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

// Who asks, on internal commands between services: the gateway authenticated the caller, and a service
// takes the org from these fields, never from the client's own input. Mixins, so that a command can extend
// its own parameters class as well (e.g. `ActingOrgWriter(ObjectCreateParams)`).

/** An org key: 2-63 lowercase letters, digits and dashes (the `orgs.key` CHECK of identity). */
export const ORG_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base takes any constructor
type Ctor<T = object> = new (...args: any[]) => T;

/** `orgId` and the `actor` the change's events name. */
export function ActingOrg<B extends Ctor>(Base: B = class {} as B) {
  class ActingOrgCommand extends Base {
    @IsUUID()
    orgId!: string;

    @ValidateNested()
    @Type(() => EventActor)
    actor!: EventActor;
  }
  return ActingOrgCommand;
}

/** `ActingOrg` plus what a command that stores a file needs: the `orgKey` of its S3 key and `createdBy`. */
export function ActingOrgWriter<B extends Ctor>(Base: B = class {} as B) {
  class ActingOrgWriterCommand extends ActingOrg(Base) {
    @Matches(ORG_KEY_PATTERN)
    orgKey!: string;

    /** The user who stores the file (usage per user); null for an API key or the platform. */
    @IsOptional()
    @ValidateIf((_, v) => v !== null)
    @IsUUID()
    createdBy?: string | null;
  }
  return ActingOrgWriterCommand;
}

/**
 * flow-orchestrator → object-metadata (`POST /internal/run-files`): record a run's input or artifact (once,
 * by key); object-metadata owns every stored file's record (SPEC 2).
 */
export class RecordRunFileCommand extends ActingOrgWriter() {
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
