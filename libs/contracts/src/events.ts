// class-transformer's @Type reads design-time metadata: load the polyfill with the contracts themselves.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsRFC3339,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { Topic } from './topics';

export const FileDirection = ['input', 'output', 'none'] as const;
export type FileDirection = (typeof FileDirection)[number];

export const FileChange = ['created', 'overwritten', 'deleted', 'moved', 'expired'] as const;
export type FileChange = (typeof FileChange)[number];

/** Who caused a change: a user, an API key, or the platform itself (TTL expiry, a workflow step). */
export class EventActor {
  @IsIn(['user', 'api_key', 'system'])
  type!: 'user' | 'api_key' | 'system';

  @IsString()
  id!: string;
}

/**
 * `storage_file.updated`: any change of a stored file (Objects API object, org storage file, run input or
 * artifact). Keyed by `objectId`, so one file's events stay ordered; `version` grows by one per change.
 */
export class StorageFileUpdatedEvent {
  @IsUUID()
  orgId!: string;

  @IsString()
  orgKey!: string;

  @IsString()
  objectId!: string;

  @IsString()
  objectKey!: string;

  /** Org storage files only: the canonical folder path, e.g. `reports/2026/q1.pdf`. */
  @IsOptional()
  @IsString()
  path?: string | null;

  @IsOptional()
  @IsString()
  workflowId?: string | null;

  @IsOptional()
  @IsString()
  runId?: string | null;

  @IsOptional()
  @IsString()
  edge?: string | null;

  @IsIn(FileDirection)
  direction!: FileDirection;

  @IsInt()
  @Min(0)
  sizeBytes!: number;

  @IsInt()
  @Min(0)
  previousSizeBytes!: number;

  @IsOptional()
  @IsString()
  contentType?: string | null;

  @IsOptional()
  @IsString()
  etag?: string | null;

  @IsIn(FileChange)
  change!: FileChange;

  @IsInt()
  @Min(1)
  version!: number;

  @IsObject()
  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  /** The user who first stored the file, for per-user usage; null when no user did (API key, system). */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  createdBy?: string | null;

  @IsRFC3339()
  occurredAt!: string;
}

export const RunStatus = ['QUEUED', 'RUNNING', 'WAITING', 'COMPLETE', 'ERROR', 'EXPIRED'] as const;
export type RunStatus = (typeof RunStatus)[number];

/** `run.created`: a workflow run was created (queued). Keyed by `runId`. */
export class RunCreatedEvent {
  @IsUUID()
  orgId!: string;

  @IsString()
  orgKey!: string;

  @IsString()
  runId!: string;

  @IsString()
  workflowId!: string;

  @IsString()
  workflowName!: string;

  @IsIn(RunStatus)
  status!: RunStatus;

  @IsObject()
  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  @IsRFC3339()
  occurredAt!: string;
}

/** `run.updated`: a run changed status. Keyed by `runId`; `version` grows by one per change. */
export class RunUpdatedEvent {
  @IsUUID()
  orgId!: string;

  @IsString()
  runId!: string;

  @IsString()
  workflowId!: string;

  @IsIn(RunStatus)
  status!: RunStatus;

  @IsIn(RunStatus)
  previousStatus!: RunStatus;

  @IsOptional()
  @IsString()
  reason?: string | null;

  @IsInt()
  @Min(1)
  version!: number;

  @IsRFC3339()
  occurredAt!: string;
}

/** The compiler checks payloads: `publish(Topic.X, event)` only accepts that topic's event type. */
export type EventMap = {
  [Topic.StorageFileUpdated]: StorageFileUpdatedEvent;
  [Topic.RunCreated]: RunCreatedEvent;
  [Topic.RunUpdated]: RunUpdatedEvent;
};

/** The class that validates each topic's payload (used by consumers and by the outbox writer). */
export const EventClass: { [T in Topic]: new () => EventMap[T] } = {
  [Topic.StorageFileUpdated]: StorageFileUpdatedEvent,
  [Topic.RunCreated]: RunCreatedEvent,
  [Topic.RunUpdated]: RunUpdatedEvent,
};
