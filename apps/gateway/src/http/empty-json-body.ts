import { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Fastify refuses `Content-Type: application/json` with an empty body (400). The Objects API's complete and delete
 * take an optional body, and common clients send that header with no body at all. A request that
 * announces no bytes (no Transfer-Encoding, Content-Length absent or 0) is treated as bodiless instead, by
 * dropping its Content-Type before Fastify picks a parser; any real body still goes through the parser.
 */
export function allowEmptyJsonBody(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      const { headers } = request;
      if (
        headers['content-type'] !== undefined &&
        headers['transfer-encoding'] === undefined &&
        (headers['content-length'] === undefined || headers['content-length'] === '0')
      ) {
        delete headers['content-type'];
      }
      done();
    });
}
