import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import { FLOW_RUN_RUNNING_EXAMPLE, WORKFLOW_UPLOAD_EXAMPLE } from '../docs/flow-examples';
import type { FastifyRequest } from 'fastify';
import {
  assertWorkflowInScope,
  Authenticated,
  CurrentPrincipal,
  Principal,
  WorkflowScoped,
} from '@lib/auth';
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
import { StreamingUploads } from './streaming-uploads.service';
import { MultipartBody } from '../http/json-only-body';

export interface DirectUploadView {
  objectKey: string;
  uri: string;
  workflowId: string;
  filename: string;
  sizeBytes: number;
  contentType: string;
}

/**
 * The flows API's two upload endpoints, on the streaming upload primitive (multipart → storage → S3,
 * never buffered whole; 413 past FLOW_LIMITS.uploadBytes with nothing stored).
 */
@ApiTags('flows')
@Controller('api/v1/upload')
@Authenticated('bearer')
export class FlowUploadsController {
  constructor(
    @Inject(FlowOrchestratorClient) private readonly flows: ServiceClient,
    @Inject(ObjectMetadataClient) private readonly metadata: ServiceClient,
    private readonly uploads: StreamingUploads,
  ) {}

  @MultipartBody()
  @Post()
  @WorkflowScoped({ inBody: true }) // the multipart field `workflow_id`, checked below
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    operationId: 'uploadWorkflowFile',
    summary:
      'Upload a file to a workflow (multipart: text field `workflow_id` first, then `file`); answers its object key and `workflow://` URI',
  })
  @ApiOkResponse({
    description: '`{objectKey, uri, workflowId, filename, sizeBytes, contentType}`',
    example: WORKFLOW_UPLOAD_EXAMPLE,
  })
  @ApiBadRequestResponse({
    description: 'Not multipart, no file, no workflow_id, or a bad filename',
  })
  @ApiNotFoundResponse({ description: 'No such workflow in the caller’s organization' })
  @ApiPayloadTooLargeResponse({ description: 'Larger than 100 MiB' })
  async upload(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DirectUploadView> {
    let workflowId = '';
    const caller = servicePrincipalOf(principal);
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

  @MultipartBody()
  @Post(':flowRunID/:edgeName')
  @WorkflowScoped({ runIdParam: 'flowRunID' })
  @HttpCode(200)
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    operationId: 'uploadToFlowRun',
    summary:
      'Upload a file (multipart `file`) straight into a waiting run’s edge and resume the run',
  })
  @ApiOkResponse({
    description: 'The run (`{ID, Status, ...}`)',
    example: FLOW_RUN_RUNNING_EXAMPLE,
  })
  @ApiNotFoundResponse({ description: 'No such run in the caller’s organization, or no such edge' })
  @ApiConflictResponse({ description: 'The run is not WAITING, or the edge is already filled' })
  @ApiPayloadTooLargeResponse({ description: 'Larger than 100 MiB' })
  async uploadToRun(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('flowRunID') runId: string,
    @Param('edgeName') edge: string,
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
