import { Controller } from '@nestjs/common';
import {
  PublicFileCall,
  OBJECT_METADATA_BATCH_OPS as OPS,
  ObjectCreateCall,
  ObjectDownloadUrlCall,
  ObjectReadCall,
} from '@lib/contracts';
import { BATCH_CALLS_IN_FLIGHT, batchOp, InternalBatchController } from '@lib/internal-http';
import { Metrics } from '@lib/observability';
import { FilesService } from '../files/files.service';
import { ObjectsService } from '../objects/objects.service';

/**
 * `POST /internal/batch`: the gateway's hot single-object operations of concurrent requests in one request
 * (see @lib/internal-http batched-calls). Each call answers what its own route answers.
 */
@Controller()
export class BatchController extends InternalBatchController {
  constructor(objects: ObjectsService, files: FilesService, metrics: Metrics) {
    super(
      {
        [OPS.objectCreate]: batchOp(ObjectCreateCall, (c) => objects.create(c)),
        [OPS.objectGet]: batchOp(ObjectReadCall, (c) => objects.get(c.orgId, c.id)),
        [OPS.objectDownloadUrl]: batchOp(ObjectDownloadUrlCall, (c) =>
          objects.downloadUrl(c.orgId, c.id, c.duration_seconds),
        ),
        [OPS.fileDownloadUrl]: batchOp(PublicFileCall, (c) =>
          files.downloadUrl(c.objectKey, c.type ?? 'attachment'),
        ),
        [OPS.fileStreamSource]: batchOp(PublicFileCall, (c) =>
          files.streamSource(c.objectKey, c.type ?? 'attachment'),
        ),
      },
      metrics.gauge(BATCH_CALLS_IN_FLIGHT),
    );
  }
}
