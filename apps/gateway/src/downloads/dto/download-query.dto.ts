import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { DISPOSITION_TYPES, type DispositionType } from '@lib/contracts';

export class DownloadQueryDto {
  @ApiProperty({
    description:
      'The object key: `{orgKey}/objects/{objectId}/{token}`, `{orgKey}/files/{token}` or ' +
      '`{orgKey}/workflows/{workflowId}/runs/{runId}/{inputs|outputs}/{token}/{filename}`',
  })
  @IsString({ message: 'objectKey is required' })
  @IsNotEmpty({ message: 'objectKey is required' })
  @MaxLength(1024)
  objectKey!: string;

  @ApiPropertyOptional({ enum: DISPOSITION_TYPES, default: 'attachment' })
  @IsOptional()
  @IsIn(DISPOSITION_TYPES, { message: 'type must be attachment or inline' })
  type?: DispositionType;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'true: stream the bytes through the gateway (Range supported) instead of a 302',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'stream must be true or false' })
  stream?: 'true' | 'false';
}
