import { OperatorOnly } from '@lib/auth';
import { ValidationFailedException } from '@lib/errors';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IdentityService } from '../identity/identity.service';
import { CreatedApiKeyResponseDto, ApiKeyResponseDto } from './dto/api-key.response.dto';
import { CreateApiKeyDto, CreatePrivateKeyDto } from './dto/create-api-key.dto';
import { CreateOrgDto } from './dto/create-org.dto';
import { CreateUserDto } from './dto/create-user.dto';
import { IssueTokenDto } from './dto/issue-token.dto';
import { OrgDetailsResponseDto, OrgResponseDto } from './dto/org.response.dto';
import { TokenResponseDto } from './dto/token.response.dto';
import { UpdateOrgDto } from './dto/update-org.dto';
import { UserResponseDto } from './dto/user.response.dto';

const uuid = (name: string) =>
  new ParseUUIDPipe({
    exceptionFactory: () => new ValidationFailedException(`${name} must be a UUID`),
  });

/** Operator endpoints: provision orgs, users, keys and tokens without SQL. */
@ApiTags('admin')
@ApiUnauthorizedResponse({ description: 'Missing or wrong operator token' })
@OperatorOnly()
@Controller('admin')
export class AdminController {
  constructor(private readonly identity: IdentityService) {}

  @Post('orgs')
  @ApiOperation({ summary: 'Create an org' })
  @ApiCreatedResponse({ type: OrgResponseDto })
  @ApiConflictResponse({ description: 'The org key is taken' })
  async createOrg(@Body() body: CreateOrgDto): Promise<OrgResponseDto> {
    return OrgResponseDto.from(await this.identity.createOrg(body));
  }

  @Get('orgs')
  @ApiOperation({ summary: 'List orgs' })
  @ApiOkResponse({ type: [OrgResponseDto] })
  async listOrgs(): Promise<OrgResponseDto[]> {
    return (await this.identity.listOrgs()).map((org) => OrgResponseDto.from(org));
  }

  @Get('orgs/:orgId')
  @ApiOperation({ summary: 'Get an org with its users and API keys (no secrets)' })
  @ApiOkResponse({ type: OrgDetailsResponseDto })
  @ApiBadRequestResponse({ description: 'orgId is not a UUID' })
  @ApiNotFoundResponse()
  async getOrg(@Param('orgId', uuid('orgId')) orgId: string): Promise<OrgDetailsResponseDto> {
    return OrgDetailsResponseDto.fromDetails(await this.identity.getOrgDetails(orgId));
  }

  @Patch('orgs/:orgId')
  @ApiOperation({
    summary: "Replace an org's capabilities (takes effect on every replica at once)",
  })
  @ApiOkResponse({ type: OrgResponseDto })
  @ApiNotFoundResponse()
  async updateOrg(
    @Param('orgId', uuid('orgId')) orgId: string,
    @Body() body: UpdateOrgDto,
  ): Promise<OrgResponseDto> {
    return OrgResponseDto.from(await this.identity.updateCapabilities(orgId, body.capabilities));
  }

  @Post('orgs/:orgId/users')
  @ApiOperation({ summary: 'Add a user to an org' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The org already has a user with that email' })
  async createUser(
    @Param('orgId', uuid('orgId')) orgId: string,
    @Body() body: CreateUserDto,
  ): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.identity.createUser(orgId, body));
  }

  @Delete('orgs/:orgId/users/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user and their API keys; their JWTs stop working at once' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: 'orgId or userId is not a UUID' })
  @ApiNotFoundResponse()
  async deleteUser(
    @Param('orgId', uuid('orgId')) orgId: string,
    @Param('userId', uuid('userId')) userId: string,
  ): Promise<void> {
    await this.identity.deleteUser(orgId, userId);
  }

  @Post('orgs/:orgId/api-keys')
  @ApiOperation({ summary: 'Create a bearer API key; its secret is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown org, or the user is not in it' })
  async createApiKey(
    @Param('orgId', uuid('orgId')) orgId: string,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponseDto> {
    return CreatedApiKeyResponseDto.fromCreated(await this.identity.createApiKey(orgId, body));
  }

  @Post('orgs/:orgId/private-keys')
  @ApiOperation({
    summary: 'Create an org private key (api-key header on /api/private); secret shown once',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  @ApiNotFoundResponse()
  async createPrivateKey(
    @Param('orgId', uuid('orgId')) orgId: string,
    @Body() body: CreatePrivateKeyDto,
  ): Promise<CreatedApiKeyResponseDto> {
    return CreatedApiKeyResponseDto.fromCreated(await this.identity.createPrivateKey(orgId, body));
  }

  @Post('api-keys/:id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key on every replica at once (idempotent)' })
  @ApiOkResponse({ type: ApiKeyResponseDto })
  @ApiBadRequestResponse({ description: 'id is not a UUID' })
  @ApiNotFoundResponse()
  async revokeApiKey(@Param('id', uuid('id')) id: string): Promise<ApiKeyResponseDto> {
    return ApiKeyResponseDto.from(await this.identity.revokeApiKey(id));
  }

  @Post('tokens')
  @ApiOperation({ summary: 'Issue an HS256 JWT for a user (only when JWT_SECRET is configured)' })
  @ApiCreatedResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'The gateway verifies RS256 tokens of an IdP (JWKS)' })
  @ApiNotFoundResponse()
  async issueToken(@Body() body: IssueTokenDto): Promise<TokenResponseDto> {
    return TokenResponseDto.from(await this.identity.issueJwt(body));
  }
}
