import { timingSafeEqual } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { CommonErrorCode, DomainException, UnauthorizedException } from '@lib/errors';
import { FlowOrchestratorConfig } from '../config/flow-orchestrator.config';
import { RunUploadEdgesService } from '../runs/run-upload-edges.service';

interface NotificationRecord {
  eventName?: unknown;
  s3?: { object?: { key?: unknown } };
}

/** S3 notification keys are form-encoded (`+` for spaces). */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * S3 event notifications (MinIO's webhook target, or AWS through SNS/EventBridge → HTTP): an
 * `ObjectCreated:*` record for a waiting edge's key fills it at once, without waiting for the watcher's next
 * check. Authenticated by a shared secret (`Authorization: Bearer <S3_NOTIFICATION_SECRET>`, MinIO's
 * `auth_token`); off when the secret is unset.
 */
@Controller('hooks')
export class S3WebhookController {
  private readonly secret: Buffer | null;

  constructor(
    private readonly edges: RunUploadEdgesService,
    { uploads }: FlowOrchestratorConfig,
  ) {
    const secret = uploads.notificationSecret;
    this.secret = secret ? Buffer.from(`Bearer ${secret}`) : null;
  }

  @Post('s3-events')
  @HttpCode(200)
  async s3Events(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<{ filled: number }> {
    if (!this.secret) {
      throw new DomainException(404, CommonErrorCode.NotFound, 'The S3 webhook is not enabled');
    }
    const given = Buffer.from(authorization ?? '');
    if (given.length !== this.secret.length || !timingSafeEqual(given, this.secret)) {
      throw new UnauthorizedException('Invalid or missing webhook secret');
    }
    const records = (body as { Records?: unknown } | null)?.Records;
    if (!Array.isArray(records)) {
      throw new DomainException(400, CommonErrorCode.ValidationFailed, 'Records must be an array');
    }
    let filled = 0;
    for (const r of records as NotificationRecord[]) {
      const key = r?.s3?.object?.key;
      if (typeof r?.eventName !== 'string' || !r.eventName.startsWith('ObjectCreated:')) continue;
      if (typeof key !== 'string') continue;
      let objectKey: string;
      try {
        objectKey = decodeS3EventKey(key);
      } catch {
        continue;
      }
      if ((await this.edges.objectCreated(objectKey)) === 'filled') filled++;
    }
    return { filled };
  }
}
