import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Presigner } from '@lib/s3';
import { PresignedUrlDto, PresignRequestDto } from './presign-request.dto';

/** Presigned URLs: the only way file bytes reach clients; they never pass through a JSON message. */
@Controller('internal/presign')
export class PresignController {
  constructor(private readonly presigner: Presigner) {}

  @Post()
  @HttpCode(200)
  presign(@Body() dto: PresignRequestDto): PresignedUrlDto {
    const expiresAt = new Date(Date.now() + dto.expiresInSeconds * 1000).toISOString();
    const url =
      dto.method === 'PUT'
        ? this.presigner.presignPut(dto.key, { expiresInSeconds: dto.expiresInSeconds })
        : this.presigner.presignGet(dto.key, {
            expiresInSeconds: dto.expiresInSeconds,
            responseContentDisposition: dto.responseContentDisposition,
            responseContentType: dto.responseContentType,
          });
    return { url, expiresAt };
  }
}
