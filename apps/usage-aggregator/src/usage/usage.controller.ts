import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { UsageQueryDto } from './dto/usage-query.dto';
import { StorageUsageDto, UsageService } from './usage.service';

/** Internal HTTP API: the gateway's `GET /api/v1/objects/storage-usage` reads these aggregates. */
@Controller('internal/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get(':orgId')
  forOrg(
    @Param('orgId', new ParseUUIDPipe()) orgId: string,
    @Query() query: UsageQueryDto,
  ): Promise<StorageUsageDto> {
    return this.usage.forOrg(orgId, query.createdBy);
  }
}
