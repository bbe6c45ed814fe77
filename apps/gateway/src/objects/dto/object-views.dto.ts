import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OBJECT_CONTENT_TYPES, OBJECT_STATES } from '@lib/contracts';

// OpenAPI descriptions of the Objects API's views (the answers themselves come from object-metadata as is).

export class ObjectViewDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: OBJECT_STATES }) state!: string;
  @ApiPropertyOptional({ type: 'integer', format: 'int64', nullable: true }) size_bytes!:
    number | null;
  @ApiProperty({ enum: OBJECT_CONTENT_TYPES }) content_type!: string;
  @ApiProperty({ type: 'integer', format: 'int64' }) create_time_ms!: number;
  @ApiPropertyOptional({ type: 'integer', format: 'int64', nullable: true })
  delete_after_time_ms!: number | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  metadata!: Record<string, string> | null;
  @ApiPropertyOptional({ nullable: true, description: 'Presigned PUT URL (create only).' })
  upload_url?: string;
}

export class ObjectListViewDto {
  @ApiProperty({ type: [ObjectViewDto] }) objects!: ObjectViewDto[];
  @ApiProperty() has_more!: boolean;
  @ApiPropertyOptional({ type: 'integer', format: 'int32', nullable: true }) total_count?: number;
}

export class MetadataKeysViewDto {
  @ApiProperty({ type: [String] }) keys!: string[];
}

export class MetadataValuesViewDto {
  @ApiProperty() key!: string;
  @ApiProperty({ type: [String] }) values!: string[];
}

export class ObjectDownloadUrlViewDto {
  @ApiProperty() download_url!: string;
}
