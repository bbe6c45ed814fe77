import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  FileDownloadUrlCall,
  FileStreamSourceCall,
  OBJECT_METADATA_BATCH_OPS as OPS,
  ObjectCreateCall,
  ObjectDownloadUrlCall,
  ObjectReadCall,
} from '@lib/contracts';
import {
  answerBatch,
  BATCH_CALLS_IN_FLIGHT,
  batchOp,
  INTERNAL_BATCH_PATH,
  type BatchOp,
} from '@lib/internal-http';
import { Metrics } from '@lib/observability';
import type { Gauge } from 'prom-client';
import { FilesService } from '../files/files.service';
import { ObjectsService } from '../objects/objects.service';

/**
 * `POST /internal/batch`: the gateway's hot single-object operations of concurrent requests in one request
 * (see @lib/internal-http batched-calls). Each call answers what its own route answers.
 */
@Controller()
export class BatchController {
  private readonly ops: Record<string, BatchOp>;
  private readonly callsInFlight: Gauge;

  constructor(objects: ObjectsService, files: FilesService, metrics: Metrics) {
    this.callsInFlight = metrics.gauge(BATCH_CALLS_IN_FLIGHT);
    this.ops = {
      [OPS.objectCreate]: batchOp(ObjectCreateCall, (c) => objects.create(c)),
      [OPS.objectGet]: batchOp(ObjectReadCall, (c) => objects.get(c.orgId, c.id)),
      [OPS.objectDownloadUrl]: batchOp(ObjectDownloadUrlCall, (c) =>
        objects.downloadUrl(c.orgId, c.id, c.duration_seconds),
      ),
      [OPS.fileDownloadUrl]: batchOp(FileDownloadUrlCall, (c) =>
        files.downloadUrl(c.objectKey, c.type ?? 'attachment'),
      ),
      [OPS.fileStreamSource]: batchOp(FileStreamSourceCall, (c) =>
        files.streamable(c.objectKey, c.type ?? 'attachment'),
      ),
    };
  }

  @Post(INTERNAL_BATCH_PATH)
  @HttpCode(200)
  answer(@Body() body: unknown) {
    return answerBatch(body, this.ops, this.callsInFlight);
  }
}
