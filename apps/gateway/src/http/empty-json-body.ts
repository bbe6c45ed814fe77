import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage } from 'node:http';
import { Http2ServerRequest } from 'node:http2';

/**
 * Fastify refuses `Content-Type: application/json` with an empty body (400). The Objects API's complete and
 * delete take an optional body, and common clients send that header with no body at all. A request that
 * sends no bytes is treated as bodiless instead, by dropping its Content-Type before Fastify picks a
 * parser; any real body still goes through the parser. HTTP/1.1 announces a body by Transfer-Encoding or a
 * Content-Length above 0; HTTP/2 by not ending the stream with its headers (a Content-Length is optional
 * there, and HTTP/2 clients such as Node's send none).
 */
export function allowEmptyJsonBody(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      const { headers, raw } = request;
      if (headers['content-type'] !== undefined && !announcesBody(raw)) {
        delete headers['content-type'];
      }
      done();
    });
}

function announcesBody(raw: IncomingMessage | Http2ServerRequest): boolean {
  if (raw instanceof Http2ServerRequest) return !raw.stream.endAfterHeaders;
  const { headers } = raw;
  return (
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}
