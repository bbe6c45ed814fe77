import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
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
import { Authenticated, CurrentPrincipal, Principal, WorkflowScoped } from '@lib/auth';
import type { FlowRunView } from '@lib/contracts';
import { MultipartBody } from '../http/json-only-body';
import { DirectUploadView, RunInputUploads } from './run-input-uploads.service';

/**
 * The flows API's two upload endpoints (`RunInputUploads`: multipart streamed to S3, never buffered whole;
 * 413 past FLOW_LIMITS.uploadBytes with nothing stored).
 */
@ApiTags('flows')
@Controller('api/v1/upload')
@Authenticated('bearer')
export class FlowUploadsController {
  constructor(private readonly runInputs: RunInputUploads) {}

  @MultipartBody()
  @Post()
  @WorkflowScoped({ inBody: true }) // the multipart field `workflow_id`, checked by RunInputUploads
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
  upload(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DirectUploadView> {
    return this.runInputs.toWorkflow(principal, request);
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
  uploadToRun(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('flowRunID') runId: string,
    @Param('edgeName') edge: string,
  ): Promise<FlowRunView> {
    return this.runInputs.toWaitingEdge(principal, request, runId, edge);
  }
}
