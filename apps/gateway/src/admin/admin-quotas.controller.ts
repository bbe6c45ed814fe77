import { Body, Controller, Get, Param, ParseUUIDPipe, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { OperatorOnly } from '@lib/auth';
import type { ServicePrincipal } from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { ValidationFailedException } from '@lib/errors';
import { IdentityService } from '../identity/identity.service';
import { OrgQuotaDto, OrgQuotaResponseDto } from './dto/org-quota.dto';

const orgIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationFailedException('orgId must be a UUID'),
});

/**
 * Operator endpoints of per-org storage quotas. object-metadata keeps them with the counters every write
 * is checked against; the org must exist here (404 otherwise).
 */
@ApiTags('admin')
@ApiUnauthorizedResponse({ description: 'Missing or wrong operator token' })
@ApiServiceUnavailableResponse({
  description: 'Storage quotas cannot be read or set right now; retry.',
})
@OperatorOnly()
@Controller('admin/orgs/:orgId/quota')
export class AdminQuotasController {
  constructor(
    private readonly identity: IdentityService,
    private readonly metadata: ObjectMetadataClient,
  ) {}

  @Get()
  @ApiOperation({ summary: "An org's storage quota and what counts against it now" })
  @ApiOkResponse({ type: OrgQuotaResponseDto })
  @ApiBadRequestResponse({ description: 'orgId is not a UUID' })
  @ApiNotFoundResponse({ description: 'No such org' })
  async get(@Param('orgId', orgIdPipe) orgId: string): Promise<OrgQuotaResponseDto> {
    const view = await this.metadata.orgQuota(await this.operatorFor(orgId));
    return OrgQuotaResponseDto.from(view);
  }

  @Put()
  @ApiOperation({
    summary:
      "Set an org's storage quota: most bytes and files, each a whole number or null (unlimited). Writes " +
      'past it are refused with 403 QUOTA_EXCEEDED at once; what is stored already stays',
  })
  @ApiOkResponse({ type: OrgQuotaResponseDto })
  @ApiBadRequestResponse({ description: 'A limit that is not a whole number from 0, or null' })
  @ApiNotFoundResponse({ description: 'No such org' })
  async set(
    @Param('orgId', orgIdPipe) orgId: string,
    @Body() body: OrgQuotaDto,
  ): Promise<OrgQuotaResponseDto> {
    const view = await this.metadata.setOrgQuota(await this.operatorFor(orgId), {
      maxBytes: body.maxBytes,
      maxFiles: body.maxFiles,
    });
    return OrgQuotaResponseDto.from(view);
  }

  /** The principal of an operator's call for an org: the org, no user, the operator acting. */
  private async operatorFor(orgId: string): Promise<ServicePrincipal> {
    const org = await this.identity.getOrg(orgId);
    return {
      orgId: org.id,
      orgKey: org.key,
      userId: null,
      role: null,
      actor: { type: 'system', id: 'operator' },
      workflowId: null,
    };
  }
}
