import fc from 'fast-check';

// Generators of malformed requests for the hostile input suite (test/e2e/hostile-input.e2e-spec.ts). Every
// request they build carries at least one certain defect for its route, so a route that changes state must
// refuse it with a 4xx; the rest of the request is hostile too (headers, query, content types, encodings).

/** One operation of the gateway's OpenAPI document. */
export interface RouteOp {
  method: string;
  /** OpenAPI template, e.g. `/v1/objects/{id}`. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  requiredQuery: string[];
  /** `bearer`, `api-key`, `operator` or `none`. */
  auth: string;
  /** Properties of the JSON body's schema; undefined when the route takes no JSON body. */
  bodyFields?: string[];
  multipart: boolean;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOp>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
}
interface OpenApiOp {
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
  security?: Record<string, unknown>[];
}

/** Multipart routes do not declare their body in the document (they stream it); these are they. */
const MULTIPART = new Set([
  'POST /api/private/storage/upload',
  'POST /api/v1/upload',
  'POST /api/v1/upload/{flowRunID}/{edgeName}',
]);

/** Every operation of the document: a new route is covered without editing the suite. */
export function routesOf(doc: OpenApiDoc): RouteOp[] {
  const ops: RouteOp[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const json = op.requestBody?.content['application/json'];
      const ref = json?.schema?.$ref?.split('/').pop();
      const props = ref ? doc.components?.schemas?.[ref]?.properties : undefined;
      const key = `${method.toUpperCase()} ${path}`;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        requiredQuery: params.filter((p) => p.in === 'query' && p.required).map((p) => p.name),
        auth: Object.keys(op.security?.[0] ?? {})[0] ?? 'none',
        bodyFields: json ? Object.keys(props ?? {}) : undefined,
        multipart: MULTIPART.has(key),
      });
    }
  }
  return ops;
}

const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202e\u202dtxt.exe',
  '\u200b',
  '\ufffd',
  'e\u0301',
  '..',
  '../../etc/passwd',
  '%00',
  '%2e%2e',
  '%252e',
  '/',
  '//',
  '\\',
  'null',
  'true',
  '-1',
  '0',
  '1e309',
  'NaN',
  '9'.repeat(400),
  'x'.repeat(5000),
  '😀'.repeat(300),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '{"$gt":""}',
  '\r\n',
  'obj_' + '0'.repeat(32),
  'obj_' + 'f'.repeat(31),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '\ud800',
  '__proto__',
  'constructor',
];

const CONTROL = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u0008',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
);

/** Strings no sane input holds: empty, huge, control characters, NUL, lone surrogates, traversal. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: CONTROL, minLength: 1, maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), CONTROL, fc.string({ maxLength: 8 }))
      .map((p) => p.join('')),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1025, max: 9000 }).map((n) => 'é'.repeat(n)) },
);

/** JSON values of every shape: the wrong type for any field. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1e308, 2 ** 53 + 1, [], {}, [[[]]], { $ref: '#' }),
);

/** A path that the org-storage rules refuse (a defect is always spliced in). */
export const invalidOrgPath: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      '//',
      '/../',
      '\u0000',
      '\\',
      '%2e%2e',
      '\u202e',
      '\u200b',
      '\ufffd',
      'e\u0301',
      '\u0007',
    ),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('', '/', ' '),
  )
  .map(([a, defect, b, tail]) => `${a}${defect}${b}${tail}`);

/** The string with lone surrogates replaced by U+FFFD (what `toWellFormed` does on newer runtimes). */
export function wellFormed(s: string): string {
  return s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/** `encodeURIComponent` that never throws (lone surrogates become U+FFFD's escape). */
export function encode(s: string): string {
  return encodeURIComponent(wellFormed(s));
}

/** A query string from pairs, possibly with duplicates and raw (unescaped) junk. */
export function queryString(pairs: [string, string][], raw?: string): string {
  const q = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`);
  if (raw !== undefined) q.push(raw);
  return q.length ? `?${q.join('&')}` : '';
}

/** Header values that can travel (visible Latin-1, no CR/LF/NUL) but mean nothing sane. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.constantFrom(
    '',
    '*',
    'W/"x"',
    '"',
    'bytes=999999999-',
    'bytes=5-1',
    'gzip',
    'br',
    'deflate',
    'x'.repeat(7000),
    '../../',
    'Bearer',
    'Basic Zm9vOmJhcg==',
    'application/json; charset=utf-16',
  ),
);

const HEADER_NAMES = [
  'x-request-id',
  'if-match',
  'accept',
  'accept-encoding',
  'range',
  'content-encoding',
  'content-type',
  'x-forwarded-for',
  'origin',
  'cookie',
  'if-none-match',
];

/** Extra headers, possibly duplicated (the same name twice). */
export const hostileHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue),
  { maxLength: 4 },
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'multipart/form-data',
  'application/octet-stream',
  'application/xml',
  'application/merge-patch+json',
  '',
  ';;;',
  'application/json, application/json',
];

/** A JSON body that is certainly wrong for its route: unknown fields, wrong shapes, or not JSON at all. */
export function badJsonBody(fields: string[]): fc.Arbitrary<JsonBodySpec> {
  const known = fields.length ? fc.constantFrom(...fields) : hostileString;
  const wrongObject = fc
    .tuple(
      fc.dictionary(known, anyJson, { maxKeys: 5 }),
      fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !fields.includes(k)),
      anyJson,
    )
    .map(([obj, extra, v]) => ({
      body: JSON.stringify({ ...obj, [extra]: v }),
      // Fastify's JSON parser refuses `__proto__`/`constructor` keys outright (a 400 naming no field).
      names: [extra, ...Object.keys(obj)].some((k) => k === '__proto__' || k === 'constructor')
        ? undefined
        : [extra, ...Object.keys(obj)],
    }));
  // Never `null` nor empty: an absent or null body is a valid "no body" where the body is optional.
  const notAnObject = anyJson
    .filter((v) => v !== null && v !== undefined && (typeof v !== 'object' || Array.isArray(v)))
    .map((v) => ({ body: JSON.stringify(v) }));
  const broken = fc
    .oneof(
      fc.constantFrom(
        '{',
        '{"a":',
        '[1,',
        '{"a":1}}',
        '\u0000',
        '{"a":"\u0000',
        'nul',
        '{"__proto__":{"x":1},',
        '\ufeff{',
      ),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
    )
    .filter((b) => b.trim() !== '' && b.trim() !== 'null')
    .map((body) => ({ body }));
  return fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: wrongObject }, notAnObject, broken),
      fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 3 }),
    )
    .map(([b, contentType]) =>
      // Only a plain JSON body is sure to reach field validation; other content types stop earlier.
      contentType === undefined
        ? { ...b, contentType: 'application/json' }
        : { body: b.body, contentType },
    );
}

/** A JSON body; `names` (when the body reaches field validation) are the fields its 400 may name. */
export interface JsonBodySpec {
  body: string;
  contentType?: string;
  names?: string[];
}

/** A JSON body that may or may not suit the route (used when another part of the request is the defect). */
export function anyJsonBody(fields: string[]): fc.Arbitrary<JsonBodySpec> {
  const shaped = fc
    .dictionary(fields.length ? fc.constantFrom(...fields) : hostileString, anyJson, { maxKeys: 4 })
    .map((o) => JSON.stringify(o));
  return fc.oneof(
    shaped.map((body) => ({ body, contentType: 'application/json' })),
    badJsonBody(fields),
    fc.constant({ body: '' }),
  );
}

export interface MultipartSpec {
  /** `certain`: the multipart structure itself is broken, so nothing may be stored whatever the target. */
  certain: boolean;
  body: Buffer;
  contentType: string;
}

const part = (boundary: string, headers: string[], content: string | Buffer) =>
  Buffer.concat([
    Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from('\r\n'),
  ]);

/**
 * A multipart body for an upload route. `fields` are the route's text fields (in order) and `fileField` the
 * file part's name. Structurally broken bodies are `certain`; well-formed ones carry hostile field values and
 * filenames, which only a hostile target (path params, workflow id) makes certainly wrong.
 */
export function multipartBody(
  fields: string[],
  opts: { fileField?: string; forced?: [string, fc.Arbitrary<string>]; brokenOnly?: boolean } = {},
): fc.Arbitrary<MultipartSpec> {
  const fileField = opts.fileField ?? 'file';
  const boundary = fc.constantFrom('zz', 'b0undary', '----x', 'a'.repeat(70));
  const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
  const filename = hostileString.map((s) => s.replace(/["\r\n]/g, '_'));
  const fieldParts = (b: string) =>
    fc
      .array(fc.tuple(fc.constantFrom(...fields, 'extra', ''), hostileString), { maxLength: 3 })
      .map((fs) =>
        fs.map(([n, v]) => part(b, [`Content-Disposition: form-data; name="${n}"`], wellFormed(v))),
      );
  const filePart = (b: string, name: string) =>
    fc
      .tuple(filename, bytes, headerValue)
      .map(([f, c, ct]) =>
        part(
          b,
          [
            `Content-Disposition: form-data; name="${name}"; filename="${f}"`,
            `Content-Type: ${ct || 'x/y'}`,
          ],
          c,
        ),
      );
  const broken: fc.Arbitrary<MultipartSpec> = boundary.chain((b) =>
    fc.oneof(
      // The body's boundary is not the declared one.
      fc.tuple(fieldParts('other'), filePart('other', fileField)).map(([fp, f]) => ({
        certain: true,
        body: Buffer.concat([...fp, f, Buffer.from('--other--\r\n')]),
        contentType: `multipart/form-data; boundary=${b}`,
      })),
      // No closing boundary: the body ends mid-part.
      fc.tuple(fieldParts(b), filePart(b, fileField), fc.nat({ max: 40 })).map(([fp, f, cut]) => {
        const all = Buffer.concat([...fp, f]);
        return {
          certain: true,
          body: all.subarray(0, Math.max(1, all.length - cut - 3)),
          contentType: `multipart/form-data; boundary=${b}`,
        };
      }),
      // No file part at all.
      fieldParts(b).map((fp) => ({
        certain: true,
        body: Buffer.concat([...fp, Buffer.from(`--${b}--\r\n`)]),
        contentType: `multipart/form-data; boundary=${b}`,
      })),
      // The file under another name, or a part without Content-Disposition.
      fc.tuple(fieldParts(b), filePart(b, 'files'), fc.boolean()).map(([fp, f, noDisposition]) => ({
        certain: true,
        body: Buffer.concat([
          ...fp,
          noDisposition ? part(b, ['Content-Type: text/plain'], 'x') : f,
          Buffer.from(`--${b}--\r\n`),
        ]),
        contentType: `multipart/form-data; boundary=${b}`,
      })),
      // Declared multipart without a boundary, or a multipart body under another content type.
      fc
        .tuple(
          filePart(b, fileField),
          fc.constantFrom(
            'multipart/form-data',
            'multipart/form-data; boundary=',
            'application/json',
            'text/plain',
            'multipart/mixed; boundary=' + b,
          ),
        )
        .map(([f, ct]) => ({
          certain: true,
          body: Buffer.concat([f, Buffer.from(`--${b}--\r\n`)]),
          contentType: ct,
        })),
      // Garbage.
      bytes.map((c) => ({
        certain: true,
        body: c,
        contentType: `multipart/form-data; boundary=${b}`,
      })),
    ),
  );
  const forced = (b: string): fc.Arbitrary<Buffer[]> =>
    opts.forced
      ? opts.forced[1].map((v) => [
          part(b, [`Content-Disposition: form-data; name="${opts.forced![0]}"`], wellFormed(v)),
        ])
      : fc.constant([]);
  const wellFormedBody: fc.Arbitrary<MultipartSpec> = boundary.chain((b) =>
    fc
      .tuple(forced(b), fieldParts(b), filePart(b, fileField), fc.boolean())
      .map(([ff, fp, f, fileFirst]) => ({
        certain: false,
        body: Buffer.concat([
          ...ff,
          ...(fileFirst ? [f, ...fp] : [...fp, f]),
          Buffer.from(`--${b}--\r\n`),
        ]),
        contentType: `multipart/form-data; boundary=${b}`,
      })),
  );
  return opts.brokenOnly ? broken : fc.oneof({ weight: 3, arbitrary: broken }, wellFormedBody);
}
