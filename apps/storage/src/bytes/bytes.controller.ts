import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CopyBytesDto, DeleteKeysDto, ObjectKeyQueryDto, ObjectStatDto } from './bytes.dto';
import { BytesService } from './bytes.service';

/**
 * Internal byte operations, called by object-metadata: HEAD (does the upload exist, how big is it), DELETE
 * one object (an API delete) and DELETE many (TTL expiries, in batches). File bytes never pass through
 * here; clients move them with presigned URLs.
 */
@Controller('internal/bytes')
export class BytesController {
  constructor(private readonly bytes: BytesService) {}

  @Get('stat')
  stat(@Query() query: ObjectKeyQueryDto): Promise<ObjectStatDto> {
    return this.bytes.stat(query.key);
  }

  @Delete()
  @HttpCode(200)
  async delete(@Query() query: ObjectKeyQueryDto): Promise<{ deleted: true }> {
    await this.bytes.delete(query.key);
    return { deleted: true };
  }

  @Post('delete')
  @HttpCode(200)
  async deleteMany(@Body() cmd: DeleteKeysDto): Promise<{ deleted: number }> {
    await this.bytes.deleteMany(cmd.keys);
    return { deleted: cmd.keys.length };
  }

  @Post('copy')
  @HttpCode(200)
  copy(@Body() cmd: CopyBytesDto): Promise<ObjectStatDto> {
    return this.bytes.copy(cmd.from, cmd.to);
  }
}
