/**
 * SigV4 verification of an incoming S3 request, from the proxy's own reading of the request line
 * and headers: the raw path and query string as sent, and the raw header list.
 *
 * Two mechanisms, as S3 accepts them:
 * - header auth: `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
 *   with `x-amz-date` (at most 15 minutes from now) and `x-amz-content-sha256` (the payload hash
 *   or UNSIGNED-PAYLOAD / STREAMING-* markers, which the proxy then checks against the body);
 * - query auth (presigned URLs): `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
 *   `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`; the payload is UNSIGNED-PAYLOAD
 *   unless `X-Amz-Content-Sha256` says otherwise.
 *
 * Like S3, every `x-amz-*` header the client sends must be signed, every signed header must be
 * sent, and `host` must be signed.
 */
import { sigv4 } from '@lib/s3';
import { S3Errors, type S3ErrorSpec } from './s3-errors';

/** The parts of a request that signatures cover, as received. */
export interface IncomingRequestParts {
  method: string;
  /** Path as sent, still percent-encoded, without the query string. */
  rawPath: string;
  /** Query string as sent, without `?` (may be ''). */
  rawQuery: string;
  /** Lower-case header name -> values in arrival order (repeated headers have several). */
  headers: ReadonlyMap<string, readonly string[]>;
}

export interface VerifyOptions {
  /** The region requests must be scoped to. */
  region: string;
  /** Secret for an access key id, undefined when unknown. */
  lookupSecret: (accessKeyId: string) => string | undefined;
  keyCache: sigv4.SigningKeyCache;
  now: Date;
  /** Allowed clock skew for header auth (and for presigned dates in the future). Default 900. */
  maxSkewSeconds?: number;
}

/** How the body is covered by the signature. */
export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hex: string }
  | { kind: 'streaming'; signedChunks: boolean; trailer: boolean };

export interface VerifiedRequest {
  ok: true;
  via: 'header' | 'query';
  accessKeyId: string;
  payload: PayloadMode;
  /** Signing context, for chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies. */
  amzDate: string;
  scope: string;
  signingKey: Buffer;
  signature: string;
}

export interface RefusedRequest {
  ok: false;
  error: S3ErrorSpec;
}

export type VerifyResult = VerifiedRequest | RefusedRequest;

const SERVICE = 's3';
const QUERY_AUTH_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
] as const;
type QueryAuthParam = (typeof QUERY_AUTH_PARAMS)[number];

const STREAMING_MODES = new Map<string, { signedChunks: boolean; trailer: boolean }>([
  ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { signedChunks: true, trailer: false }],
  ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { signedChunks: true, trailer: true }],
  ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { signedChunks: false, trailer: true }],
]);

const refuse = (error: S3ErrorSpec): RefusedRequest => ({ ok: false, error });

/** Builds the header map of `IncomingRequestParts` from Node's `rawHeaders` list. */
export function headerMap(rawHeaders: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const values = map.get(name);
    if (values === undefined) map.set(name, [rawHeaders[i + 1]]);
    else values.push(rawHeaders[i + 1]);
  }
  return map;
}

/** Verifies the request's signature; anonymous requests are refused like a private bucket does. */
export function verifyRequest(req: IncomingRequestParts, options: VerifyOptions): VerifyResult {
  let query: sigv4.QueryParam[];
  try {
    query = sigv4.parseRawQuery(req.rawQuery);
  } catch {
    return refuse(S3Errors.invalidArgument('The query string is not valid percent-encoding.'));
  }
  const authorization = req.headers.get('authorization');
  const hasQueryAuth = query.some(
    ([name]) =>
      name === 'X-Amz-Algorithm' || name === 'X-Amz-Signature' || name === 'X-Amz-Credential',
  );
  if (authorization !== undefined && hasQueryAuth) {
    return refuse(
      S3Errors.invalidArgument(
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature ' +
          'query string parameter or the Authorization header should be specified',
      ),
    );
  }
  if (authorization !== undefined) return verifyHeaderAuth(req, query, authorization, options);
  if (hasQueryAuth) return verifyQueryAuth(req, query, options);
  if (query.some(([name]) => name === 'Signature' || name === 'AWSAccessKeyId')) {
    return refuse(unsupportedMechanism());
  }
  return refuse(S3Errors.accessDenied());
}

function verifyHeaderAuth(
  req: IncomingRequestParts,
  query: sigv4.QueryParam[],
  authorization: readonly string[],
  options: VerifyOptions,
): VerifyResult {
  if (authorization.length !== 1)
    return refuse(S3Errors.headerMalformed('several Authorization headers.'));
  const value = authorization[0].trim();
  const space = value.indexOf(' ');
  const algorithm = space === -1 ? value : value.slice(0, space);
  if (algorithm !== sigv4.SIGV4_ALGORITHM) return refuse(unsupportedMechanism());

  // "Credential=AK/20250102/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=..."
  const components = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) return refuse(S3Errors.headerMalformed(`invalid component '${part.trim()}'.`));
    components.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = components.get('Credential');
  const signedHeadersList = components.get('SignedHeaders');
  const provided = components.get('Signature');
  if (credential === undefined || signedHeadersList === undefined || provided === undefined) {
    return refuse(
      S3Errors.headerMalformed(
        'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
      ),
    );
  }

  const amzDate = single(req.headers, 'x-amz-date');
  const requestTime = amzDate === undefined ? undefined : sigv4.parseAmzDate(amzDate);
  if (amzDate === undefined || requestTime === undefined) {
    return refuse(
      S3Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header'),
    );
  }
  const scope = parseCredential(credential, amzDate, options.region, S3Errors.headerMalformed);
  if (!scope.ok) return scope;

  const secret = options.lookupSecret(scope.accessKeyId);
  if (secret === undefined) return refuse(S3Errors.invalidAccessKeyId(scope.accessKeyId));

  const skewMs = (options.maxSkewSeconds ?? 900) * 1000;
  if (Math.abs(options.now.getTime() - requestTime.getTime()) > skewMs) {
    return refuse({
      status: 403,
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
      details: {
        RequestTime: amzDate,
        ServerTime: options.now.toISOString().replace(/\.\d+/, ''),
        MaxAllowedSkewMilliseconds: String(skewMs),
      },
    });
  }

  const contentSha = single(req.headers, 'x-amz-content-sha256');
  if (contentSha === undefined) {
    return refuse(
      S3Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256'),
    );
  }
  const payload = payloadMode(contentSha, true);
  if (payload === undefined) {
    return refuse(
      S3Errors.invalidArgument(
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ' +
          'STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha },
      ),
    );
  }

  return checkSignature(req, options, secret, {
    via: 'header',
    accessKeyId: scope.accessKeyId,
    amzDate,
    shortDate: scope.shortDate,
    signedHeaderNames: signedHeadersList.split(';'),
    canonicalQuery: sigv4.canonicalQueryString(query),
    payloadHashLine: contentSha,
    payload,
    provided,
  });
}

function verifyQueryAuth(
  req: IncomingRequestParts,
  query: sigv4.QueryParam[],
  options: VerifyOptions,
): VerifyResult {
  const auth = new Map<QueryAuthParam, string>();
  for (const [name, value] of query) {
    if ((QUERY_AUTH_PARAMS as readonly string[]).includes(name)) {
      if (auth.has(name as QueryAuthParam)) {
        return refuse(S3Errors.queryMalformed(`Query parameter ${name} was given more than once.`));
      }
      auth.set(name as QueryAuthParam, value);
    }
  }
  const missing = QUERY_AUTH_PARAMS.filter((name) => !auth.has(name));
  if (missing.length > 0) {
    return refuse(
      S3Errors.queryMalformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, ' +
          'X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      ),
    );
  }
  const get = (name: QueryAuthParam): string => auth.get(name) ?? '';
  if (get('X-Amz-Algorithm') !== sigv4.SIGV4_ALGORITHM) {
    return refuse(S3Errors.queryMalformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'));
  }
  const amzDate = get('X-Amz-Date');
  const signedAt = sigv4.parseAmzDate(amzDate);
  if (signedAt === undefined) {
    return refuse(
      S3Errors.queryMalformed(
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      ),
    );
  }
  const expiresText = get('X-Amz-Expires');
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (Number.isNaN(expires)) {
    return refuse(S3Errors.queryMalformed('X-Amz-Expires should be a number'));
  }
  if (expires > 604_800) {
    return refuse(
      S3Errors.queryMalformed(
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires ' +
          'must be less than 604800 seconds',
      ),
    );
  }
  const scope = parseCredential(get('X-Amz-Credential'), amzDate, options.region, (m) =>
    S3Errors.queryMalformed(`Error parsing the X-Amz-Credential parameter; ${m}`),
  );
  if (!scope.ok) return scope;

  const secret = options.lookupSecret(scope.accessKeyId);
  if (secret === undefined) return refuse(S3Errors.invalidAccessKeyId(scope.accessKeyId));

  const now = options.now.getTime();
  const expiresAt = signedAt.getTime() + expires * 1000;
  if (now > expiresAt) {
    return refuse(
      S3Errors.accessDenied('Request has expired', {
        'X-Amz-Expires': expiresText,
        Expires: new Date(expiresAt).toISOString().replace(/\.\d+/, ''),
        ServerTime: options.now.toISOString().replace(/\.\d+/, ''),
      }),
    );
  }
  if (signedAt.getTime() - now > (options.maxSkewSeconds ?? 900) * 1000) {
    return refuse(
      S3Errors.accessDenied('Request is not valid yet', {
        'X-Amz-Date': amzDate,
        ServerTime: options.now.toISOString().replace(/\.\d+/, ''),
      }),
    );
  }

  // The payload hash of a presigned request: X-Amz-Content-Sha256 if the URL carries one.
  const contentShaParam = query.find(([name]) => name.toLowerCase() === 'x-amz-content-sha256');
  const payloadHashLine = contentShaParam?.[1] ?? sigv4.UNSIGNED_PAYLOAD;
  const payload = payloadMode(payloadHashLine, false);
  if (payload === undefined) {
    return refuse(
      S3Errors.invalidArgument(
        'X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.',
        {
          ArgumentName: 'X-Amz-Content-Sha256',
          ArgumentValue: payloadHashLine,
        },
      ),
    );
  }

  return checkSignature(req, options, secret, {
    via: 'query',
    accessKeyId: scope.accessKeyId,
    amzDate,
    shortDate: scope.shortDate,
    signedHeaderNames: get('X-Amz-SignedHeaders').split(';'),
    canonicalQuery: sigv4.canonicalQueryString(
      query.filter(([name]) => name !== 'X-Amz-Signature'),
    ),
    payloadHashLine,
    payload,
    provided: get('X-Amz-Signature'),
  });
}

interface SignatureInput {
  via: 'header' | 'query';
  accessKeyId: string;
  amzDate: string;
  shortDate: string;
  signedHeaderNames: string[];
  canonicalQuery: string;
  payloadHashLine: string;
  payload: PayloadMode;
  provided: string;
}

function checkSignature(
  req: IncomingRequestParts,
  options: VerifyOptions,
  secret: string,
  input: SignatureInput,
): VerifyResult {
  const signed = new Set(input.signedHeaderNames);
  const signedList = [...signed];
  if (signedList.some((name) => name === '' || name !== name.toLowerCase())) {
    return refuse(
      S3Errors.accessDenied('SignedHeaders must be lower-case header names separated by ";"'),
    );
  }
  if (!signed.has('host')) {
    return refuse(S3Errors.accessDenied("'Host' must be a signed header"));
  }
  // S3 refuses x-amz-* headers that the signature does not cover (they change the request's
  // meaning: metadata, ACLs, copy sources, checksums...).
  const unsigned = [...req.headers.keys()].filter(
    (name) => name.startsWith('x-amz-') && !signed.has(name),
  );
  if (unsigned.length > 0) {
    return refuse(
      S3Errors.accessDenied('There were headers present in the request which were not signed', {
        HeadersNotSigned: unsigned.join(', '),
      }),
    );
  }

  let canonicalUri: string;
  try {
    canonicalUri = sigv4.canonicalUriFromRawPath(req.rawPath);
  } catch {
    return refuse({
      status: 400,
      code: 'InvalidURI',
      message: "Couldn't parse the specified URI.",
    });
  }
  const headers = sigv4.canonicalHeaders(signedList, (name) => req.headers.get(name));
  const canonical = sigv4.canonicalRequest({
    method: req.method,
    canonicalUri,
    canonicalQuery: input.canonicalQuery,
    canonicalHeaders: headers.canonical,
    signedHeaders: headers.signedHeaders,
    payloadHash: input.payloadHashLine,
  });
  const scope = sigv4.credentialScope(input.shortDate, options.region, SERVICE);
  const toSign = sigv4.stringToSign(input.amzDate, scope, canonical);
  const signingKey = options.keyCache.get(secret, input.shortDate, options.region, SERVICE);
  const expected = sigv4.signature(signingKey, toSign);

  // A header that is signed but absent can never verify (S3 reports a mismatch as well).
  const absent = signedList.filter((name) => !req.headers.has(name));
  if (absent.length > 0 || !sigv4.signaturesEqual(expected, input.provided.toLowerCase())) {
    return refuse(
      S3Errors.signatureDoesNotMatch({
        AWSAccessKeyId: input.accessKeyId,
        StringToSign: toSign,
        SignatureProvided: input.provided,
        CanonicalRequest: canonical,
        ...(absent.length > 0 ? { SignedHeadersNotPresent: absent.join(', ') } : {}),
      }),
    );
  }
  return {
    ok: true,
    via: input.via,
    accessKeyId: input.accessKeyId,
    payload: input.payload,
    amzDate: input.amzDate,
    scope,
    signingKey,
    signature: expected,
  };
}

type ParsedCredential =
  { ok: true; accessKeyId: string; shortDate: string } | { ok: false; error: S3ErrorSpec };

/** `AKID/YYYYMMDD/region/s3/aws4_request`, checked against the request date and our region. */
function parseCredential(
  credential: string,
  amzDate: string,
  region: string,
  malformed: (message: string) => S3ErrorSpec,
): ParsedCredential {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[0] === '') {
    return {
      ok: false,
      error: malformed(
        `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      ),
    };
  }
  const [accessKeyId, shortDate, credRegion, service, terminator] = parts;
  if (shortDate !== amzDate.slice(0, 8)) {
    return {
      ok: false,
      error: malformed(
        `Invalid credential date "${shortDate}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
      ),
    };
  }
  if (credRegion !== region) {
    return {
      ok: false,
      error: malformed(`the region '${credRegion}' is wrong; expecting '${region}'`),
    };
  }
  if (service !== SERVICE) {
    return {
      ok: false,
      error: malformed(`incorrect service "${service}". This endpoint belongs to "s3".`),
    };
  }
  if (terminator !== sigv4.SIGV4_TERMINATOR) {
    return {
      ok: false,
      error: malformed(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`),
    };
  }
  return { ok: true, accessKeyId, shortDate };
}

function payloadMode(value: string, allowStreaming: boolean): PayloadMode | undefined {
  if (value === sigv4.UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  const streaming = allowStreaming ? STREAMING_MODES.get(value) : undefined;
  return streaming === undefined ? undefined : { kind: 'streaming', ...streaming };
}

function single(headers: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  const values = headers.get(name);
  return values === undefined ? undefined : values.join(',').trim();
}

function unsupportedMechanism(): S3ErrorSpec {
  return S3Errors.invalidRequest(
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
}
