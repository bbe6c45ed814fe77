import type { Role } from '@lib/auth';
import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, MaxLength } from 'class-validator';

export class CreateUserDto {
  @ApiProperty({ description: 'Unique within the org (case-insensitive)', example: 'ada@acme.io' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(320)
  email!: string;

  @ApiProperty({ enum: ['admin', 'member'], example: 'member' })
  @IsIn(['admin', 'member'], { message: "role must be 'admin' or 'member'" })
  role!: Role;
}
