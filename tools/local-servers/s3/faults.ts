import type { sigv4 } from '@lib/s3';

/** The S3 operation a request performs (path-style addressing). */
export type S3Operation =
  | 'PUT' // PutObject
  | 'GET' // GetObject
  | 'HEAD' // HeadObject
  | 'DELETE' // DeleteObject
  | 'COPY' // CopyObject
  | 'LIST' // ListObjects(V2)
  | 'DELETE_OBJECTS' // DeleteObjects (batch)
  | 'CREATE_MULTIPART' // CreateMultipartUpload
  | 'UPLOAD_PART' // UploadPart, UploadPartCopy
  | 'COMPLETE_MULTIPART' // CompleteMultipartUpload
  | 'ABORT_MULTIPART' // AbortMultipartUpload
  | 'BUCKET' // other bucket-level requests (HeadBucket, location, CORS...)
  | 'OTHER'; // everything else (ListBuckets, tagging, ACLs...)

export interface RequestTarget {
  method: string;
  operation: S3Operation;
  bucket?: string;
  /** Decoded object key; for LIST the `prefix` parameter. */
  key?: string;
}

/** Which requests fail, and how. All given criteria must match. */
export interface FaultSpec {
  /** HTTP method, e.g. 'PUT'. */
  method?: string;
  /** Operation(s), e.g. 'PUT' (PutObject only, not UploadPart) or ['GET', 'HEAD']. */
  operation?: S3Operation | readonly S3Operation[];
  bucket?: string;
  /**
   * Object keys starting with this; for LIST, the `prefix` parameter. Requests without a key
   * (DeleteObjects, bucket requests) never match a fault that sets it.
   */
  keyPrefix?: string;
  status: 500 | 503;
  /** Matching requests to fail before the fault removes itself; default: until cleared. */
  count?: number;
  /** S3 error code; default InternalError (500) or SlowDown (503). */
  code?: string;
  message?: string;
}

export interface InjectedFault {
  readonly spec: Readonly<FaultSpec>;
  /** Requests failed so far. */
  readonly hits: number;
  /** Whether it still applies (not removed, count not exhausted). */
  readonly active: boolean;
  remove(): void;
}

class Fault implements InjectedFault {
  hits = 0;
  removed = false;

  constructor(
    readonly spec: Readonly<FaultSpec>,
    private readonly registry: FaultRegistry,
  ) {}

  get active(): boolean {
    return !this.removed && (this.spec.count === undefined || this.hits < this.spec.count);
  }

  remove(): void {
    this.registry.remove(this);
  }

  matches(target: RequestTarget): boolean {
    const s = this.spec;
    if (s.method !== undefined && s.method.toUpperCase() !== target.method) return false;
    if (s.operation !== undefined) {
      const ops: readonly S3Operation[] =
        typeof s.operation === 'string' ? [s.operation] : s.operation;
      if (!ops.includes(target.operation)) return false;
    }
    if (s.bucket !== undefined && s.bucket !== target.bucket) return false;
    if (
      s.keyPrefix !== undefined &&
      (target.key === undefined || !target.key.startsWith(s.keyPrefix))
    ) {
      return false;
    }
    return true;
  }
}

/** Injected faults, checked in injection order; the first active match fails the request. */
export class FaultRegistry {
  private faults: Fault[] = [];

  inject(spec: FaultSpec): InjectedFault {
    if (spec.status !== 500 && spec.status !== 503)
      throw new RangeError('status must be 500 or 503');
    if (spec.count !== undefined && (!Number.isInteger(spec.count) || spec.count < 1)) {
      throw new RangeError('count must be a positive integer');
    }
    const fault = new Fault({ ...spec }, this);
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    for (const fault of this.faults) fault.removed = true;
    this.faults = [];
  }

  remove(fault: InjectedFault): void {
    this.faults = this.faults.filter((f) => {
      if (f !== fault) return true;
      f.removed = true;
      return false;
    });
  }

  /** The fault to apply to this request, if any (counts the hit). */
  take(target: RequestTarget): Readonly<FaultSpec> | undefined {
    const fault = this.faults.find((f) => f.active && f.matches(target));
    if (fault === undefined) return undefined;
    fault.hits += 1;
    if (!fault.active) this.remove(fault);
    return fault.spec;
  }
}

const BUCKET_SUBRESOURCES = [
  'acl',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'tagging',
  'uploads',
  'versioning',
  'versions',
  'website',
  'accelerate',
];

/** Classifies a path-style request (`/bucket/key`). */
export function classifyRequest(
  method: string,
  rawPath: string,
  query: readonly sigv4.QueryParam[],
  hasCopySource: boolean,
): RequestTarget {
  const has = (name: string): boolean => query.some(([n]) => n === name);
  const slash = rawPath.indexOf('/', 1);
  const bucketPart = slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const keyPart = slash === -1 ? '' : rawPath.slice(slash + 1);
  const bucket = bucketPart === '' ? undefined : safeDecode(bucketPart);
  if (bucket === undefined) return { method, operation: 'OTHER' };
  if (keyPart === '') {
    const bucketLevel = (operation: S3Operation, key?: string): RequestTarget => ({
      method,
      operation,
      bucket,
      key,
    });
    if (method === 'GET' && !BUCKET_SUBRESOURCES.some(has)) {
      return bucketLevel('LIST', query.find(([n]) => n === 'prefix')?.[1] ?? '');
    }
    if (method === 'POST' && has('delete')) return bucketLevel('DELETE_OBJECTS');
    return bucketLevel('BUCKET');
  }
  const key = safeDecode(keyPart);
  const target = (operation: S3Operation): RequestTarget => ({ method, operation, bucket, key });
  const objectSubresource = has('tagging') || has('acl') || has('retention') || has('legal-hold');
  switch (method) {
    case 'PUT':
      if (has('uploadId')) return target('UPLOAD_PART');
      if (objectSubresource) return target('OTHER');
      return target(hasCopySource ? 'COPY' : 'PUT');
    case 'GET':
      return target(has('uploadId') || objectSubresource ? 'OTHER' : 'GET');
    case 'HEAD':
      return target('HEAD');
    case 'DELETE':
      if (has('uploadId')) return target('ABORT_MULTIPART');
      return target(objectSubresource ? 'OTHER' : 'DELETE');
    case 'POST':
      if (has('uploads')) return target('CREATE_MULTIPART');
      if (has('uploadId')) return target('COMPLETE_MULTIPART');
      return target('OTHER');
    default:
      return target('OTHER');
  }
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
