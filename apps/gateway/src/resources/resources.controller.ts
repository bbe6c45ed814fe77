import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RESOURCE_DOWNLOAD_URL_EXAMPLE } from '../docs/flow-examples';
import { IsString, MaxLength } from 'class-validator';
import { Authenticated, CurrentPrincipal, Principal, WorkflowScoped } from '@lib/auth';
import type { ResourceDownloadUrlView } from '@lib/contracts';
import { FlowOrchestratorClient } from '@lib/clients';
import { currentTraceId } from '@lib/observability';
import { servicePrincipalOf } from '../services/service-principal';

export class GenerateDownloadUrlDto {
  @ApiProperty({ example: 'workflow://550e8400-e29b-41d4-a716-446655440000/uploads/customers.csv' })
  @IsString()
  @MaxLength(2048)
  resource_uri!: string;
}

/** The resource URL contract's `generate_download_url` tool: a `workflow://` resource URI → a presigned GET (one hour). */
@ApiTags('resources')
@Controller('api/v1/resources')
@Authenticated('bearer')
export class ResourcesController {
  constructor(private readonly flows: FlowOrchestratorClient) {}

  @Post('download-url')
  // The URI names the workflow; the flow-orchestrator answers the contract's "Access denied" outside the scope.
  @WorkflowScoped({ inBody: true })
  @HttpCode(200)
  @ApiOperation({
    operationId: 'generate_download_url',
    summary:
      'Generate a presigned HTTPS download URL for a workflow file identified by its resource URI',
  })
  @ApiOkResponse({
    description:
      '`{download_url, download_expires_at, resource_uri, filename, tool_trace_id, workflow_id}`',
    example: RESOURCE_DOWNLOAD_URL_EXAMPLE,
  })
  @ApiBadRequestResponse({ description: 'Invalid URI protocol, path or resource type' })
  @ApiNotFoundResponse({ description: 'No resource at the URI (missing or expired)' })
  @ApiServiceUnavailableResponse({
    description: 'Failed to generate download URL. Please try again.',
  })
  async downloadUrl(
    @CurrentPrincipal() principal: Principal,
    @Body() body: GenerateDownloadUrlDto,
  ): Promise<ResourceDownloadUrlView> {
    const view = await this.flows.resourceDownloadUrl(servicePrincipalOf(principal), {
      resourceUri: body.resource_uri,
    });
    return { ...view, tool_trace_id: currentTraceId() ?? view.tool_trace_id };
  }
}
