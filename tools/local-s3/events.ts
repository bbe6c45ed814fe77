/** S3 event notification records (the `Records` document S3 sends to SNS/SQS/Lambda/webhooks). */
export interface S3NotificationRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  /** e.g. ObjectCreated:Put, ObjectCreated:Copy, ObjectCreated:CompleteMultipartUpload, ObjectRemoved:Delete */
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    /** `key` is URL-encoded as S3 does it (spaces as `+`): decode with `decodeS3EventKey`. */
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

export interface S3NotificationEvent {
  Records: S3NotificationRecord[];
}

/** Encodes a key as S3 notifications carry it: form-style, `+` for spaces, `/` kept. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Inverse of `encodeS3EventKey` (what a notification consumer does). */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

let sequence = 0;

/** A record for an event the proxy synthesizes (s3rver emits none for DeleteObjects). */
export function makeRecord(
  region: string,
  eventName: string,
  bucket: string,
  key: string,
  sourceIp: string,
): S3NotificationRecord {
  sequence += 1;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date().toISOString(),
    eventName,
    userIdentity: { principalId: 'local-s3' },
    requestParameters: { sourceIPAddress: sourceIp },
    responseElements: { 'x-amz-request-id': `local-s3-${sequence}` },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'local-s3',
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: 'local-s3' },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key: encodeS3EventKey(key),
        sequencer: (Date.now() * 1000 + (sequence % 1000)).toString(16).toUpperCase(),
      },
    },
  };
}

/** Keys listed under `<Deleted>` in a DeleteObjects response. */
export function deletedKeys(xml: string): string[] {
  const keys: string[] = [];
  const deleted = /<Deleted>([\s\S]*?)<\/Deleted>/g;
  for (let m = deleted.exec(xml); m !== null; m = deleted.exec(xml)) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1]);
    if (key !== null) keys.push(decodeXmlText(key[1]));
  }
  return keys;
}

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? '';
  });
}
