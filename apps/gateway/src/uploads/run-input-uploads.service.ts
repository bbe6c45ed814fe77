import { Injectable } from '@nestjs/common';
import { assertWorkflowInScope, Principal } from '@lib/auth';
import {
  FLOW_LIMITS,
  FlowRunView,
  isRunFilename,
  runFileKey,
  workflowResourceUri,
} from '@lib/contracts';
import { ValidationFailedException } from '@lib/errors';
import { FlowOrchestratorClient, ObjectMetadataClient } from '@lib/clients';
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
    private readonly flows: FlowOrchestratorClient,
    private readonly metadata: ObjectMetadataClient,
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
        await this.flows.workflow(caller, { workflowId });
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
      await this.metadata.recordRunFile(caller, {
        workflowId,
        runId: FLOW_LIMITS.directUploadRunId,
        edge: 'upload',
        direction: 'input',
        objectKey: up.key,
        filename: up.filename,
        sizeBytes: up.sizeBytes,
        contentType: up.contentType,
        etag: up.etag,
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
    const caller = servicePrincipalOf(principal);
    await this.uploads.receiveMultipart(request, caller, {
      maxBytes: FLOW_LIMITS.uploadBytes,
      keyFor: async () => {
        const target = await this.flows.uploadTarget(caller, { runId, edge });
        return target.objectKey;
      },
    });
    return this.flows.completeUpload(caller, { runId, edge });
  }
}
