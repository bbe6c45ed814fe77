/* eslint-disable no-restricted-imports -- The admin CLI is the gateway's operator tool: it reuses the
   gateway's IdentityService and admin DTOs instead of duplicating their rules and SQL. Every import of
   gateway code by the CLI goes through this one file. */
export {
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
} from '../../apps/gateway/src/admin/dto/api-key.response.dto';
export {
  CreateApiKeyDto,
  CreatePrivateKeyDto,
} from '../../apps/gateway/src/admin/dto/create-api-key.dto';
export { CreateOrgDto } from '../../apps/gateway/src/admin/dto/create-org.dto';
export { CreateUserDto } from '../../apps/gateway/src/admin/dto/create-user.dto';
export {
  OrgDetailsResponseDto,
  OrgResponseDto,
} from '../../apps/gateway/src/admin/dto/org.response.dto';
export { TokenResponseDto } from '../../apps/gateway/src/admin/dto/token.response.dto';
export { UserResponseDto } from '../../apps/gateway/src/admin/dto/user.response.dto';
export { CREDENTIAL_CACHE_TTL_MS } from '../../apps/gateway/src/identity/cached-credential-store.service';
export { CredentialInvalidationService } from '../../apps/gateway/src/identity/credential-invalidation.service';
export { identityDataSourceOptions } from '../../apps/gateway/src/identity/identity-data-source';
export { IdentityRepository } from '../../apps/gateway/src/identity/identity.repository';
export { IdentityService } from '../../apps/gateway/src/identity/identity.service';
export type { OrgEntity } from '../../apps/gateway/src/identity/org.entity';
export type { UserEntity } from '../../apps/gateway/src/identity/user.entity';
