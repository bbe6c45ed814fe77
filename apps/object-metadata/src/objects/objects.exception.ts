import { DomainException } from '@lib/errors';

export const ObjectsErrorCode = {
  ObjectNotFound: 'OBJECT_NOT_FOUND',
} as const;

export class ObjectNotFoundException extends DomainException {
  constructor(id: string) {
    // Another org's object answers the same 404, so ids cannot be probed (SPEC 3).
    super(404, ObjectsErrorCode.ObjectNotFound, `object ${id} not found`);
  }
}
