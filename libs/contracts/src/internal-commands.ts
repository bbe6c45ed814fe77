import { Type } from 'class-transformer';
import {
  IsIn,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { EventActor } from './events';

/** An org key: 2-63 lowercase letters, digits and dashes (the `orgs.key` CHECK of identity). */
export const ORG_KEY_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/**
 * Who an internal call acts for: the org, always, and who in it. The caller signs it into its service
 * token (`@lib/internal-http`): the gateway from the credential it authenticated, a service from the record
 * it works on. Services take the org from here, never from a body, query or path.
 */
export class ServicePrincipal {
  @IsUUID()
  orgId!: string;

  /** The org's key, the first segment of each of its S3 keys. */
  @Matches(ORG_KEY_PATTERN)
  orgKey!: string;

  /** The user the call acts for (the files it stores count as theirs); null for org-wide keys and the platform. */
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  userId!: string | null;

  /** The user's role in the org; null without a user. */
  @ValidateIf((_, v) => v !== null)
  @IsIn(['admin', 'member'])
  role!: 'admin' | 'member' | null;

  /** Who acts, as the events of its changes name them. */
  @ValidateNested()
  @Type(() => EventActor)
  actor!: EventActor;

  /** The workflow the client's token is scoped to; null for an unscoped credential. */
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(64)
  workflowId!: string | null;
}

/**
 * The principal of a call a service makes for an org on the record it works on, not for a client's
 * credential: no role, no workflow scope; `actor` acts (a user, or the platform) and `userId` is who the
 * files count for (null: nobody).
 */
export function recordPrincipal(
  org: { orgId: string; orgKey: string },
  actor: EventActor,
  userId: string | null = null,
): ServicePrincipal {
  return { orgId: org.orgId, orgKey: org.orgKey, userId, role: null, actor, workflowId: null };
}
