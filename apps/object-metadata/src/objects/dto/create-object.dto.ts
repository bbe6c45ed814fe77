import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { EventActor } from '@lib/contracts';
import { ObjectContentType } from '../object.entity';
import { IsStringRecord, MaxUtf8Bytes } from './validators';

/** Longest TTL accepted: one year. */
export const MAX_TTL_MS = 365 * 24 * 3600 * 1000;

/** Internal command from the gateway: create an object for an authenticated org. */
export class CreateObjectDto {
  @IsUUID()
  orgId!: string;

  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/)
  orgKey!: string;

  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  @IsOptional()
  @IsUUID()
  createdBy?: string | null;

  @IsString()
  @MaxUtf8Bytes(1024)
  name!: string;

  @IsIn(ObjectContentType)
  content_type!: ObjectContentType;

  @IsOptional()
  @IsStringRecord()
  metadata?: Record<string, string> | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_MS)
  ttl_ms?: number | null;
}
