import { Body, Controller, Delete, HttpCode, Post, Query } from '@nestjs/common';
import {
  CopyBytesCommand,
  DeleteKeysCommand,
  ObjectKeyQuery,
  type BytesDeleted,
  type KeysDeleted,
  type ServicePrincipal,
  type StoredBytes,
} from '@lib/contracts';
import { assertKeysOfOrg, CalledBy, OnBehalfOf } from '@lib/internal-http';
import { BytesService } from './bytes.service';

/**
 * Internal byte operations, called by object-metadata: copy (a completed upload to its final key, an org
 * file copy: size and ETag of the copy, 404 when nothing was uploaded), DELETE one object (an API delete)
 * and DELETE many (TTL expiries, in batches). Only keys of the org of the call's principal. File bytes never
 * pass through here: clients move them with presigned URLs, and the gateway writes what it receives.
 */
@Controller('internal/bytes')
@CalledBy('object-metadata')
export class BytesController {
  constructor(private readonly bytes: BytesService) {}

  @Delete()
  @HttpCode(200)
  async delete(
    @OnBehalfOf() principal: ServicePrincipal,
    @Query() query: ObjectKeyQuery,
  ): Promise<BytesDeleted> {
    assertKeysOfOrg(principal, [query.key]);
    await this.bytes.delete(query.key);
    return { deleted: true };
  }

  @Post('delete')
  @HttpCode(200)
  async deleteMany(
    @OnBehalfOf() principal: ServicePrincipal,
    @Body() cmd: DeleteKeysCommand,
  ): Promise<KeysDeleted> {
    assertKeysOfOrg(principal, cmd.keys);
    await this.bytes.deleteMany(cmd.keys);
    return { deleted: cmd.keys.length };
  }

  @Post('copy')
  @HttpCode(200)
  copy(
    @OnBehalfOf() principal: ServicePrincipal,
    @Body() cmd: CopyBytesCommand,
  ): Promise<StoredBytes> {
    assertKeysOfOrg(principal, [cmd.from, cmd.to]);
    return this.bytes.copy(cmd.from, cmd.to, cmd.maxBytes);
  }
}
