import type { FastifyRequest } from 'fastify';
import { CommonErrorCode, DomainException } from '@lib/errors';

/**
 * For routes whose body is optional JSON (flows, trigger): the multipart parser registered for uploads leaves
 * a multipart body unread, so without this check such a request would look bodiless and run the stored
 * definition. It is refused with 415 instead (hostile input suite: `Content-Type: multipart/form-data`).
 */
export function refuseMultipartBody(request: FastifyRequest): void {
  if (request.isMultipart()) {
    throw new DomainException(
      415,
      CommonErrorCode.UnsupportedMediaType,
      'Content-Type must be application/json, not multipart/form-data',
    );
  }
}
