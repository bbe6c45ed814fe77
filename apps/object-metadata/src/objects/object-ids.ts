import { uuidv7 } from '@lib/events';

/**
 * Object ids are time-ordered (UUIDv7, so `ORDER BY id DESC` is newest first and keyset pagination is stable)
 * with a readable prefix: `obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f` (`OBJECT_ID_PATTERN` of @lib/contracts).
 */
export function newObjectId(): string {
  return `obj_${uuidv7().replaceAll('-', '')}`;
}
