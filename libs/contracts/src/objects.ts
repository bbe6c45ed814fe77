import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';

// The Objects API: its enums, limits and views, shared by the gateway (public validation) and
// object-metadata (its internal API), so both check the same rules. The wire format itself is its
// OpenAPI document (docs/api/objects-api.openapi.json).

/** WARNING: persisted values (the `objects.content_type` column) and a public contract. */
export const OBJECT_CONTENT_TYPES = [
  'unspecified',
  'text',
  'binary',
  'gzip',
  'tar',
  'tgz',
] as const;
export type ObjectContentType = (typeof OBJECT_CONTENT_TYPES)[number];

/** WARNING: persisted values (the `objects.state` column) and a public contract. */
export const OBJECT_STATES = ['UPLOADING', 'READ_ONLY', 'DELETED', 'ERROR'] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

/** `obj_` + the 32 hex digits of a UUIDv7: time-ordered, so `ORDER BY id DESC` is newest first. */
export const OBJECT_ID_PATTERN = /^obj_[0-9a-f]{32}$/;

export const OBJECT_LIMITS = {
  /** Object names: 1 to 1024 UTF-8 bytes. */
  nameBytes: 1024,
  /** Longest `ttl_ms`: one year. */
  maxTtlMs: 365 * 24 * 3600 * 1000,
  /** Metadata: at most 64 entries, keys of 1-256 bytes, values up to 4 KiB, 32 KiB in all. */
  metadata: { entries: 64, keyBytes: 256, valueBytes: 4096, totalBytes: 32_768 },
  /**
   * Largest JSON body of a create (413 past it): the largest valid one, every character of its name and
   * metadata written as a 6-byte `\u` escape, is under 200 KiB.
   */
  createBodyBytes: 256 * 1024,
  /** `limit` of the list operations. */
  list: { default: 20, max: 5000 },
  /** Longest `name` / `search` filter of the list operations. */
  filterBytes: 1024,
  /** `duration_seconds` of a download URL: default one hour, at most seven days (S3's own limit). */
  download: { default: 3600, max: 7 * 24 * 3600 },
  /** How long a create's `upload_url` stays valid. */
  uploadUrlSeconds: 3600,
  /** The largest object unless `OBJECT_MAX_BYTES` says otherwise (complete refuses larger uploads). */
  defaultMaxBytes: 1024 ** 3,
  /** Most keys (or values) the metadata operations return, sorted. */
  metadataListMax: 10_000,
} as const;

/** The Objects API's `ObjectView`. `upload_url` is present on create only. */
export interface ObjectView {
  id: string;
  name: string;
  state: ObjectState;
  size_bytes: number | null;
  content_type: ObjectContentType;
  create_time_ms: number;
  delete_after_time_ms: number | null;
  metadata: Record<string, string> | null;
  upload_url?: string;
}

/** The Objects API's `ObjectListView`; `total_count` is absent when `include_total_count=false`. */
export interface ObjectListView {
  objects: ObjectView[];
  has_more: boolean;
  total_count?: number;
}

export interface MetadataKeysView {
  keys: string[];
}

export interface MetadataValuesView {
  key: string;
  values: string[];
}

export interface ObjectDownloadUrlView {
  download_url: string;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

// Postgres text and jsonb cannot hold U+0000: refused at the edge rather than failing in the database.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A metadata key: 1-256 bytes, no control characters. */
export function isMetadataKey(key: string): boolean {
  return (
    key.length > 0 && utf8Bytes(key) <= OBJECT_LIMITS.metadata.keyBytes && !CONTROL_CHARS.test(key)
  );
}

/** Why a metadata value is not acceptable, or undefined when it is a valid string → string map. */
export function metadataProblem(value: unknown): string | undefined {
  const { entries, valueBytes, totalBytes } = OBJECT_LIMITS.metadata;
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return 'must be an object';
  const pairs = Object.entries(value as Record<string, unknown>);
  if (pairs.length > entries) return `must have at most ${entries} entries`;
  let total = 0;
  for (const [k, v] of pairs) {
    if (!isMetadataKey(k)) {
      return `keys must be 1 to ${OBJECT_LIMITS.metadata.keyBytes} bytes without control characters`;
    }
    if (typeof v !== 'string') return `values must be strings (${JSON.stringify(k)} is not)`;
    if (utf8Bytes(v) > valueBytes || v.includes('\u0000')) {
      return `values must be at most ${valueBytes} bytes without NUL characters`;
    }
    total += utf8Bytes(k) + utf8Bytes(v);
  }
  if (total > totalBytes) return `must be at most ${totalBytes} bytes in all`;
  return undefined;
}

/** A string of 1 to `max` UTF-8 bytes without NUL characters (`allowEmpty` for filters). */
export function IsBoundedString(
  max: number,
  options?: ValidationOptions & { allowEmpty?: boolean },
) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isBoundedString',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be a string of ${options?.allowEmpty ? 0 : 1} to ${max} bytes without NUL characters`,
        ...options,
      },
      validator: {
        validate: (v: unknown) =>
          typeof v === 'string' &&
          (options?.allowEmpty || v.length > 0) &&
          utf8Bytes(v) <= max &&
          !v.includes('\u0000'),
      },
    });
}

/** A string → string map within `OBJECT_LIMITS.metadata` (null and absent allowed). */
export function IsObjectMetadata(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isObjectMetadata',
      target: target.constructor,
      propertyName,
      options: {
        message: (args) => `${propertyName} ${metadataProblem(args.value) ?? 'is invalid'}`,
        ...options,
      },
      validator: { validate: (v: unknown) => metadataProblem(v) === undefined },
    });
}

/**
 * class-transformer helpers for query strings (every value arrives as a string). An empty value means
 * "not given" (the OpenAPI document marks its list parameters `allowEmptyValue`); anything that does not parse is
 * left as is, so the validator rejects it naming the parameter.
 */
export const queryTransforms = {
  emptyAsUndefined: ({ value }: { value: unknown }) => (value === '' ? undefined : value),
  toInt: ({ value }: { value: unknown }) =>
    value === ''
      ? undefined
      : typeof value === 'string' && /^-?\d{1,16}$/.test(value)
        ? Number(value)
        : value,
  toBool: ({ value }: { value: unknown }) =>
    value === '' ? undefined : value === 'true' ? true : value === 'false' ? false : value,
};

/** An optional `limit` query parameter of a paged list: an integer from 1 to `max`. */
export function PageLimit(max: number): PropertyDecorator {
  const range = { message: `limit must be between 1 and ${max}` };
  const decorators = [
    IsOptional(),
    Transform(queryTransforms.toInt),
    IsInt({ message: 'limit must be an integer' }),
    Min(1, range),
    Max(max, range),
  ];
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

/** Validates a path's `{key}` of the metadata values operation. */
export function IsMetadataKey(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMetadataKey',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be a metadata key: 1 to ${OBJECT_LIMITS.metadata.keyBytes} bytes without control characters`,
        ...options,
      },
      validator: { validate: (v: unknown) => typeof v === 'string' && isMetadataKey(v) },
    });
}

const objectIdMessage = (field: string) =>
  `${field} must be an object id: obj_ followed by 32 lower-case hex digits`;

// The request parameters of each operation, validated once here for the gateway (public input) and
// object-metadata (internal input). The gateway's DTOs extend them with their OpenAPI annotations.

/** The Objects API's `ObjectCreateParameters`. */
export class ObjectCreateParams {
  @IsBoundedString(OBJECT_LIMITS.nameBytes)
  name!: string;

  @IsIn(OBJECT_CONTENT_TYPES, {
    message: `content_type must be one of ${OBJECT_CONTENT_TYPES.join(', ')}`,
  })
  content_type!: ObjectContentType;

  @IsOptional()
  @IsObjectMetadata()
  metadata?: Record<string, string> | null;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt({ message: 'ttl_ms must be an integer number of milliseconds' })
  @Min(1, { message: 'ttl_ms must be positive' })
  @Max(OBJECT_LIMITS.maxTtlMs, {
    message: `ttl_ms must be at most ${OBJECT_LIMITS.maxTtlMs} (one year)`,
  })
  ttl_ms?: number | null;
}

/** The query of `GET /v1/objects` and `GET /v1/objects/list_public`. */
export class ObjectListParams {
  @PageLimit(OBJECT_LIMITS.list.max)
  limit?: number;

  @IsOptional()
  @Transform(queryTransforms.emptyAsUndefined)
  @Matches(OBJECT_ID_PATTERN, { message: objectIdMessage('starting_after') })
  starting_after?: string;

  @IsOptional()
  @Transform(queryTransforms.emptyAsUndefined)
  @IsBoundedString(OBJECT_LIMITS.filterBytes)
  name?: string;

  @IsOptional()
  @Transform(queryTransforms.emptyAsUndefined)
  @IsIn(OBJECT_CONTENT_TYPES, {
    message: `content_type must be one of ${OBJECT_CONTENT_TYPES.join(', ')}`,
  })
  content_type?: ObjectContentType;

  @IsOptional()
  @Transform(queryTransforms.emptyAsUndefined)
  @IsIn(OBJECT_STATES, { message: `state must be one of ${OBJECT_STATES.join(', ')}` })
  state?: ObjectState;

  @IsOptional()
  @Transform(queryTransforms.emptyAsUndefined)
  @IsBoundedString(OBJECT_LIMITS.filterBytes)
  search?: string;

  @IsOptional()
  @Transform(queryTransforms.toBool)
  @IsBoolean({ message: 'include_total_count must be true or false' })
  include_total_count?: boolean;
}

/** The query of `GET /v1/objects/{id}/download`. */
export class ObjectDownloadParams {
  @IsOptional()
  @Transform(queryTransforms.toInt)
  @IsInt({ message: 'duration_seconds must be an integer number of seconds' })
  @Min(1, { message: 'duration_seconds must be positive' })
  @Max(OBJECT_LIMITS.download.max, {
    message: `duration_seconds must be at most ${OBJECT_LIMITS.download.max} (7 days)`,
  })
  duration_seconds?: number;
}

/**
 * The `{id}` of object-metadata's per-object operations (a malformed one is a 400 there). The public API
 * answers 404 to a malformed id before calling it: the gateway's `ObjectIdGuard`.
 */
export class ObjectIdParams {
  @Matches(OBJECT_ID_PATTERN, { message: objectIdMessage('id') })
  id!: string;
}

/** The `{key}` of `GET /v1/objects/metadata/keys/{key}/values`. */
export class MetadataKeyParams {
  @IsMetadataKey()
  key!: string;
}
