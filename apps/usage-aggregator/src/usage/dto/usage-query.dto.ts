import { IsOptional, IsUUID } from 'class-validator';

export class UsageQueryDto {
  /** Narrows to the files this user first stored. */
  @IsOptional()
  @IsUUID()
  createdBy?: string;
}
