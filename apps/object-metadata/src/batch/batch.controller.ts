import { Controller } from '@nestjs/common';
import {
  PublicFileCall,
  OBJECT_METADATA_BATCH_OPS as OPS,
  ObjectCreateCall,
  ObjectDownloadUrlCall,
  ObjectReadCall,
} from '@lib/contracts';
import {
  BATCH_CALLS_IN_FLIGHT,
  batchOp,
  CalledBy,
  InternalBatchController,
  publicBatchOp,
  ServiceTokens,
} from '@lib/internal-http';
import { Metrics } from '@lib/observability';
import { FilesService } from '../files/files.service';
import { ObjectsService } from '../objects/objects.service';

/**
 * `POST /internal/batch`: the gateway's hot single-object operations of concurrent requests in one request
 * (see @lib/internal-http batched-calls). Each call answers what its own route answers, for the principal of
 * its token; the public download's lookups (a file of any org by its unguessable key) act for none.
 */
@Controller()
@CalledBy('gateway')
export class BatchController extends InternalBatchController {
  constructor(
    objects: ObjectsService,
    files: FilesService,
    metrics: Metrics,
    tokens: ServiceTokens,
  ) {
    super(
      {
        [OPS.objectCreate]: batchOp(ObjectCreateCall, (c, p) => objects.create(c, p)),
        [OPS.objectGet]: batchOp(ObjectReadCall, (c, p) => objects.get(p.orgId, c.id)),
        [OPS.objectDownloadUrl]: batchOp(ObjectDownloadUrlCall, (c, p) =>
          objects.downloadUrl(p.orgId, c.id, c.duration_seconds),
        ),
        [OPS.fileDownloadUrl]: publicBatchOp(PublicFileCall, (c) =>
          files.downloadUrl(c.objectKey, c.type ?? 'attachment'),
        ),
        [OPS.fileStreamSource]: publicBatchOp(PublicFileCall, (c) =>
          files.streamSource(c.objectKey, c.type ?? 'attachment'),
        ),
      },
      metrics.gauge(BATCH_CALLS_IN_FLIGHT),
      tokens,
    );
  }
}
