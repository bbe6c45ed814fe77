import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommonErrorCode, DomainException } from './domain.exception';

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
  requestId?: string;
}

/** How a surface wraps its errors: org storage's `/api/private` wants `{success: false, error}`. */
export type ErrorEnvelope = (error: ErrorBody, request: FastifyRequest) => unknown;

export const defaultEnvelope: ErrorEnvelope = (error) => ({ error });

/** The code an error answer of this status carries when nothing more specific names one. */
export const ERROR_CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: CommonErrorCode.ValidationFailed,
  401: CommonErrorCode.Unauthorized,
  403: CommonErrorCode.Forbidden,
  404: CommonErrorCode.NotFound,
  409: CommonErrorCode.Conflict,
  412: CommonErrorCode.PreconditionFailed,
  413: CommonErrorCode.PayloadTooLarge,
  415: CommonErrorCode.UnsupportedMediaType,
  429: CommonErrorCode.TooManyRequests,
  503: CommonErrorCode.DependencyUnavailable,
};

interface FastifyError {
  statusCode?: number;
  code?: string;
  message: string;
}

function isFastifyClientError(e: unknown): e is FastifyError {
  const status = (e as FastifyError | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Maps any thrown error to `{status, body}`: domain errors as they are, client errors kept, the rest 500. */
export function toErrorResponse(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof DomainException) {
    const body: ErrorBody = { code: exception.code, message: exception.message };
    if (exception.details !== undefined) body.details = exception.details;
    return { status: exception.status, body };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const raw =
      typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw)
      ? raw.join('; ')
      : typeof raw === 'string'
        ? raw
        : exception.message;
    return {
      status,
      body: {
        code: ERROR_CODE_OF_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'),
        message,
      },
    };
  }
  if (isFastifyClientError(exception)) {
    // Fastify's own rejections: malformed JSON, body over the limit, unsupported content type.
    const status = exception.statusCode!;
    return {
      status,
      body: { code: ERROR_CODE_OF_STATUS[status] ?? 'BAD_REQUEST', message: exception.message },
    };
  }
  return {
    status: 500,
    body: { code: CommonErrorCode.Internal, message: 'Internal server error' },
  };
}

/**
 * The one HTTP error filter: every error leaves as JSON with a stable code, a message that says what is
 * wrong, and the request id. A 500 never leaks internals; it is logged with its stack instead.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(private readonly envelopes: { prefix: string; envelope: ErrorEnvelope }[] = []) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /**
   * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused before any route saw it (headers or
   * URL over the size limit, a malformed request line) still answers this filter's JSON body, not Fastify's
   * own `{error, message, statusCode}`. The path, when the request line got through, picks the envelope.
   */
  clientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            'HEADERS_TOO_LARGE',
            'request line and headers exceed the size limit',
          ]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request took too long to arrive']
          : [400, 'Bad Request', CommonErrorCode.ValidationFailed, 'malformed HTTP request'];
    const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1', 0, 2048) : '';
    const url = /^[A-Z]+ (\S+)/.exec(head)?.[1] ?? '/';
    const envelope =
      this.envelopes.find((e) => url.startsWith(e.prefix))?.envelope ?? defaultEnvelope;
    const body = JSON.stringify(envelope({ code, message }, { url } as FastifyRequest));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  }

  /**
   * Renders `exception` on `reply`. Also Fastify's `frameworkErrors` handler, so that the router's own
   * rejections (a malformed URL, an over-long path parameter) answer the same JSON body.
   */
  send(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const { status, body } = toErrorResponse(exception);
    if (status === 413 && !(exception instanceof DomainException)) {
      // Fastify's body limit (Nest hands it over as an HttpException): its text does not say the limit.
      body.message = `The request body is larger than the ${request.routeOptions.bodyLimit} bytes this route accepts`;
    }
    body.requestId = String(request.id);
    if (status >= 500) {
      this.logger.error(
        { err: exception, requestId: request.id, url: request.url },
        'request failed with an unexpected error',
      );
    }
    const envelope =
      this.envelopes.find((e) => request.url.startsWith(e.prefix))?.envelope ?? defaultEnvelope;
    if (reply.sent) return;
    void reply
      .status(status)
      .header('content-type', 'application/json')
      .send(envelope(body, request));
  }
}
