import { Inject, Injectable } from '@nestjs/common';
import { assertWorkflowInScope, Principal } from '@lib/auth';
import {
  FLOW_LIMITS,
  FlowRunView,
  isRunFilename,
  runFileKey,
  workflowResourceUri,
} from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import { ServiceClient } from '@lib/internal-http';
import { FlowOrchestratorClient, ObjectMetadataClient } from '../services/service-clients.module';
import { servicePrincipalOf } from '../services/service-principal';
import { MultipartRequest, StreamingUploads } from './streaming-uploads.service';

export interface DirectUploadView {
  objectKey: string;
  uri: string;
  workflowId: string;
  filename: string;
  sizeBytes: number;
  contentType: string;
}

/**
 * Run input uploads (multipart `file`, at most FLOW_LIMITS.uploadBytes): to a workflow, recorded by
 * object-metadata as an input of its direct-upload run; or into a waiting run's edge, which
 * flow-orchestrator then fills (removing bytes it refuses) and the run resumes.
 */
@Injectable()
export class RunInputUploads {
  constructor(
    @Inject(FlowOrchestratorClient) private readonly flows: ServiceClient,
    @Inject(ObjectMetadataClient) private readonly metadata: ServiceClient,
    private readonly uploads: StreamingUploads,
  ) {}

  /**
   * To a workflow: the text field `workflow_id` first (in the caller's scope, an existing workflow), then a
   * file with a run-file name, both checked before any byte is stored. A refused record removes the bytes.
   */
  async toWorkflow(principal: Principal, request: MultipartRequest): Promise<DirectUploadView> {
    const caller = servicePrincipalOf(principal);
    let workflowId = '';
    const up = await this.uploads.receiveMultipart(request, caller, {
      maxBytes: FLOW_LIMITS.uploadBytes,
      fields: ['workflow_id'],
      keyFor: async ({ filename, fieldsBefore }) => {
        workflowId = fieldsBefore.workflow_id ?? '';
        if (!workflowId) {
          throw new ValidationFailedException(
            'workflow_id is required, as a text field before the file part',
          );
        }
        assertWorkflowInScope(principal, workflowId);
        if (!isRunFilename(filename)) {
          throw new ValidationFailedException(
            'the file needs a filename: one path segment of at most 255 bytes, no control characters',
          );
        }
        await this.flows.call('GET', `/internal/workflows/${encodeURIComponent(workflowId)}`, {
          principal: caller,
        });
        return runFileKey(
          principal.orgKey,
          workflowId,
          FLOW_LIMITS.directUploadRunId,
          'inputs',
          filename,
        );
      },
    });
    try {
      await this.metadata.call('POST', '/internal/run-files', {
        principal: caller,
        body: {
          workflowId,
          runId: FLOW_LIMITS.directUploadRunId,
          edge: 'upload',
          direction: 'input',
          objectKey: up.key,
          filename: up.filename,
          sizeBytes: up.sizeBytes,
          contentType: up.contentType,
          etag: up.etag,
        },
      });
    } catch (err) {
      await this.uploads.discardUnlessRecorded(up.key, err);
      throw err;
    }
    return {
      objectKey: up.key,
      uri: workflowResourceUri(workflowId, 'uploads', up.filename),
      workflowId,
      filename: up.filename,
      sizeBytes: up.sizeBytes,
      contentType: up.contentType,
    };
  }

  /**
   * Into the edge `edge` of the run `runId`: flow-orchestrator names the key once it has checked that the
   * edge is waiting (before any byte is stored), then fills the edge with the stored bytes.
   */
  async toWaitingEdge(
    principal: Principal,
    request: MultipartRequest,
    runId: string,
    edge: string,
  ): Promise<FlowRunView> {
    const path = `/internal/runs/${encodeURIComponent(runId)}/edges/${encodeURIComponent(edge)}`;
    const caller = servicePrincipalOf(principal);
    await this.uploads.receiveMultipart(request, caller, {
      maxBytes: FLOW_LIMITS.uploadBytes,
      keyFor: async () => {
        const target = await this.flows.call<{ objectKey: string }>('GET', path, {
          principal: caller,
        });
        return target.objectKey;
      },
    });
    return this.flows.call<FlowRunView>('POST', `${path}/complete`, { principal: caller });
  }
}
