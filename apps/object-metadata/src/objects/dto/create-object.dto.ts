import { Type } from 'class-transformer';
import { IsOptional, IsUUID, Matches, ValidateIf, ValidateNested } from 'class-validator';
import { EventActor, ObjectCreateParams } from '@lib/contracts';

/** Who asks, as the gateway authenticated them. Services take the org from here, never from the client. */
export class OrgCommandDto {
  @IsUUID()
  orgId!: string;

  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;
}

/** Internal command from the gateway: create an object for an authenticated org. */
export class CreateObjectDto extends ObjectCreateParams {
  @IsUUID()
  orgId!: string;

  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/)
  orgKey!: string;

  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  createdBy?: string | null;
}
