import type { ObjectView } from '@lib/contracts';
import type { ObjectEntity } from './object.entity';

/** The Objects API's `ObjectView`, field for field (`upload_url` is added on create only). */
export function toObjectView(o: ObjectEntity): ObjectView {
  return {
    id: o.id,
    name: o.name,
    state: o.state,
    size_bytes: o.sizeBytes,
    content_type: o.contentType,
    create_time_ms: o.createTimeMs,
    delete_after_time_ms: o.deleteAfterTimeMs,
    metadata: o.metadata,
  };
}
