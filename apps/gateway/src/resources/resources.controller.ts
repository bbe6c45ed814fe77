import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
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
import { ServiceClient } from '@lib/internal-http';
import { currentTraceId } from '@lib/observability';
import { FlowOrchestratorClient } from '../services/service-clients.module';
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
  constructor(@Inject(FlowOrchestratorClient) private readonly flows: ServiceClient) {}

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
    const view = await this.flows.call<ResourceDownloadUrlView>(
      'POST',
      '/internal/resources/download-url',
      {
        principal: servicePrincipalOf(principal),
        body: { resourceUri: body.resource_uri },
      },
    );
    return { ...view, tool_trace_id: currentTraceId() ?? view.tool_trace_id };
  }
}
