import type { ObjectContentType, ObjectEntity, ObjectState } from '../object.entity';

/** Seed 001's `ObjectView`, field for field (`upload_url` is added by the gateway on create only). */
export interface ObjectViewDto {
  id: string;
  name: string;
  state: ObjectState;
  size_bytes: number | null;
  content_type: ObjectContentType;
  create_time_ms: number;
  delete_after_time_ms: number | null;
  metadata: Record<string, string> | null;
}

/** The internal answer: the seed's view plus what the gateway needs to presign (never sent to clients). */
export interface ObjectRecordDto {
  view: ObjectViewDto;
  objectKey: string;
}

export function toObjectRecord(o: ObjectEntity): ObjectRecordDto {
  return {
    view: {
      id: o.id,
      name: o.name,
      state: o.state,
      size_bytes: o.sizeBytes,
      content_type: o.contentType,
      create_time_ms: o.createTimeMs,
      delete_after_time_ms: o.deleteAfterTimeMs,
      metadata: o.metadata,
    },
    objectKey: o.objectKey,
  };
}
