import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@lib/events';

/**
 * Object ids are time-ordered (UUIDv7, so `ORDER BY id DESC` is newest first and keyset pagination is stable)
 * with a readable prefix: `obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f` (`OBJECT_ID_PATTERN` of @lib/contracts).
 */
export function newObjectId(): string {
  return `obj_${uuidv7().replaceAll('-', '')}`;
}

/**
 * The S3 key of an object's bytes (SPEC 4.2): `{orgKey}/objects/{objectId}/{token}`. The token's 192 random
 * bits make the key itself unguessable, since a key is a download capability (seed 000).
 */
export function newObjectKey(orgKey: string, objectId: string): string {
  return `${orgKey}/objects/${objectId}/${randomBytes(24).toString('base64url')}`;
}
