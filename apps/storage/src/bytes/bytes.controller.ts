import { Body, Controller, Delete, HttpCode, Post, Query } from '@nestjs/common';
import { CopyBytesDto, DeleteKeysDto, ObjectKeyQueryDto, ObjectStatDto } from './bytes.dto';
import { BytesService } from './bytes.service';

/**
 * Internal byte operations, called by object-metadata: copy (a completed upload to its final key, an org
 * file copy: size and ETag of the copy, 404 when nothing was uploaded), DELETE one object (an API delete)
 * and DELETE many (TTL expiries, in batches). File bytes never pass through here; clients move them with
 * presigned URLs.
 */
@Controller('internal/bytes')
export class BytesController {
  constructor(private readonly bytes: BytesService) {}

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
