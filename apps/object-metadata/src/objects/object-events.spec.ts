import { FileChange } from '@lib/contracts';
import { validateEventData } from '@lib/events';
import { objectChangedEvent, TTL_ACTOR } from './object-events';
import { ObjectEntity } from './object.entity';

const object = (overrides: Partial<ObjectEntity> = {}): ObjectEntity => ({
  id: 'obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f',
  orgId: '6f1c1b8e-8a5e-4b8f-9d0c-2a7e4f1b3c5d',
  orgKey: 'acme',
  name: 'a.txt',
  contentType: 'text',
  state: 'READ_ONLY',
  sizeBytes: 42,
  metadata: null,
  objectKey: 'acme/objects/obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f/token',
  etag: '"abc"',
  createdBy: null,
  createTimeMs: 1_764_000_000_000,
  deleteAfterTimeMs: null,
  isPublic: false,
  purgePending: false,
  latePurgeAtMs: null,
  version: 2,
  ...overrides,
});

describe(objectChangedEvent.name, () => {
  const actor = { type: 'api_key' as const, id: 'key-1' };

  it.each<[FileChange, Partial<ObjectEntity>, number, number, string | null]>([
    ['created', { sizeBytes: null, state: 'UPLOADING', etag: null, version: 1 }, 0, 0, null],
    ['overwritten', {}, 42, 0, '"abc"'],
    ['deleted', { state: 'DELETED', version: 3 }, 0, 42, null],
    ['expired', { state: 'DELETED', version: 3 }, 0, 42, null],
  ])(
    'should carry the sizes of a %s object',
    (change, overrides, sizeBytes, previousSizeBytes, etag) => {
      const o = object(overrides);
      const sut = objectChangedEvent(o, change, actor, 1_764_000_000_123);
      expect(sut).toMatchObject({
        objectId: o.id,
        objectKey: o.objectKey,
        change,
        sizeBytes,
        previousSizeBytes,
        etag,
        version: o.version,
        direction: 'none',
        occurredAt: '2025-11-24T16:00:00.123Z',
      });
      // What the outbox writer checks before it commits the event.
      expect(validateEventData('storage_file.updated', sut, { closed: true })).toMatchObject({
        ok: true,
      });
    },
  );

  it('should name the platform as the actor of an expiry', () => {
    expect(objectChangedEvent(object(), 'expired', TTL_ACTOR, 0).actor).toEqual({
      type: 'system',
      id: 'ttl-expiry',
    });
  });
});
