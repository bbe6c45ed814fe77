import type { ServerResponse } from 'node:http';

/** An S3 error response: HTTP status plus the `<Error>` document's code, message and details. */
export interface S3ErrorSpec {
  status: number;
  code: string;
  message: string;
  /** Extra `<Error>` elements (S3 adds e.g. StringToSign, X-Amz-Expires, HeadersNotSigned). */
  details?: Record<string, string>;
}

/** An error carrying the S3 response it should turn into (thrown by the body transforms). */
export class S3RequestError extends Error {
  constructor(readonly spec: S3ErrorSpec) {
    super(`${spec.code}: ${spec.message}`);
  }
}

export const S3Errors = {
  accessDenied: (message = 'Access Denied', details?: Record<string, string>): S3ErrorSpec => ({
    status: 403,
    code: 'AccessDenied',
    message,
    details,
  }),
  signatureDoesNotMatch: (details?: Record<string, string>): S3ErrorSpec => ({
    status: 403,
    code: 'SignatureDoesNotMatch',
    message:
      'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
    details,
  }),
  invalidAccessKeyId: (accessKeyId: string): S3ErrorSpec => ({
    status: 403,
    code: 'InvalidAccessKeyId',
    message: 'The AWS Access Key Id you provided does not exist in our records.',
    details: { AWSAccessKeyId: accessKeyId },
  }),
  headerMalformed: (message: string): S3ErrorSpec => ({
    status: 400,
    code: 'AuthorizationHeaderMalformed',
    message: `The authorization header is malformed; ${message}`,
  }),
  queryMalformed: (message: string): S3ErrorSpec => ({
    status: 400,
    code: 'AuthorizationQueryParametersError',
    message,
  }),
  invalidRequest: (message: string): S3ErrorSpec => ({
    status: 400,
    code: 'InvalidRequest',
    message,
  }),
  invalidArgument: (message: string, details?: Record<string, string>): S3ErrorSpec => ({
    status: 400,
    code: 'InvalidArgument',
    message,
    details,
  }),
  internal: (): S3ErrorSpec => ({
    status: 500,
    code: 'InternalError',
    message: 'We encountered an internal error. Please try again.',
  }),
};

/** Default error code and message S3 uses for a status (fault injection). */
export function defaultErrorFor(status: number): { code: string; message: string } {
  switch (status) {
    case 503:
      return { code: 'SlowDown', message: 'Please reduce your request rate.' };
    case 500:
      return {
        code: 'InternalError',
        message: 'We encountered an internal error. Please try again.',
      };
    default:
      return { code: 'ServiceUnavailable', message: 'Service is unable to handle request.' };
  }
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** The S3 `<Error>` XML document. */
export function s3ErrorXml(spec: S3ErrorSpec, requestId: string, resource?: string): string {
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(spec.code)}</Code>`;
  xml += `<Message>${escapeXml(spec.message)}</Message>`;
  for (const [name, value] of Object.entries(spec.details ?? {})) {
    xml += `<${name}>${escapeXml(value)}</${name}>`;
  }
  if (resource !== undefined) xml += `<Resource>${escapeXml(resource)}</Resource>`;
  xml += `<RequestId>${requestId}</RequestId><HostId>local-s3</HostId></Error>`;
  return xml;
}

/** Writes an S3 error response (no body for HEAD, as S3 does) unless headers were already sent. */
export function sendS3Error(
  res: ServerResponse,
  spec: S3ErrorSpec,
  requestId: string,
  method: string | undefined,
  resource?: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = method === 'HEAD' ? '' : s3ErrorXml(spec, requestId, resource);
  res.writeHead(spec.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    'x-amz-id-2': requestId,
  });
  res.end(body);
}
