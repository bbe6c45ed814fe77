import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  OBJECT_CONTENT_TYPES,
  OBJECT_LIMITS,
  OBJECT_STATES,
  ObjectDownloadParams,
  ObjectListParams,
  type ObjectContentType,
  type ObjectState,
} from '@lib/contracts';

/** The query of `GET /v1/objects` and `/v1/objects/list_public` (validated by the shared contract). */
export class ListObjectsQueryDto extends ObjectListParams {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: OBJECT_LIMITS.list.max,
    default: OBJECT_LIMITS.list.default,
  })
  override limit?: number;

  @ApiPropertyOptional({ description: 'Next page: the id of the last object of the previous one.' })
  override starting_after?: string;

  @ApiPropertyOptional({ description: 'Part of the name, case-insensitive.' })
  override name?: string;

  @ApiPropertyOptional({ enum: OBJECT_CONTENT_TYPES })
  override content_type?: ObjectContentType;

  @ApiPropertyOptional({
    enum: OBJECT_STATES,
    description: 'DELETED objects are listed only with state=DELETED.',
  })
  override state?: ObjectState;

  @ApiPropertyOptional({ description: 'The exact object id, or part of the name.' })
  override search?: string;

  @ApiPropertyOptional({ type: 'boolean', default: true })
  override include_total_count?: boolean;
}

export class DownloadQueryDto extends ObjectDownloadParams {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    maximum: OBJECT_LIMITS.download.max,
    default: OBJECT_LIMITS.download.default,
  })
  override duration_seconds?: number;
}
