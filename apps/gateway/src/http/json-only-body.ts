import { SetMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { preValidationHookHandler } from 'fastify';
import { CommonErrorCode, DomainException } from '@lib/errors';

const MULTIPART_BODY = Symbol('multipartBody');

/** The route takes a `multipart/form-data` body (file uploads, read as a stream by `StreamingUploads`). */
export const MultipartBody = () => SetMetadata(MULTIPART_BODY, true);

/**
 * A multipart body sent to any other route is refused with 415. The multipart parser registered for
 * uploads leaves such a body unread, so without this a JSON route whose body is optional (Objects API
 * complete and delete, flows, trigger) would take the request for bodiless and act on it.
 */
export function refuseMultipartOutsideUploads(app: NestFastifyApplication): void {
  const refuse: preValidationHookHandler = (request, _reply, done) => {
    if (!request.isMultipart()) return done();
    done(
      new DomainException(
        415,
        CommonErrorCode.UnsupportedMediaType,
        'Content-Type must be application/json, not multipart/form-data',
      ),
    );
  };
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (Reflect.getMetadata(MULTIPART_BODY, route.handler) === true) return;
      const hooks = route.preValidation;
      route.preValidation = [...(hooks === undefined ? [] : [hooks].flat()), refuse];
    });
}
