import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ObjectEntity } from '../src/objects/object.entity';
import { ObjectsRepository } from '../src/objects/objects.repository';
import { objectMetadataDatabase } from './object-metadata-database';

const ORG = randomUUID();

function object(id: string, state: ObjectEntity['state']): ObjectEntity {
  return {
    id,
    orgId: ORG,
    orgKey: 'org-r',
    name: `${id}.txt`,
    contentType: 'text',
    state,
    sizeBytes: state === 'READ_ONLY' ? 12 : null,
    metadata: { k: 'v' },
    objectKey: `org-r/objects/${id}/token`,
    etag: null,
    createdBy: null,
    createTimeMs: 1_700_000_000_000,
    deleteAfterTimeMs: null,
    isPublic: false,
    purgePending: false,
    latePurgeAtMs: null,
    version: 1,
  };
}

// The get/download reads are batched prepared statements on the pool (queryPrepared): the same rows as
// before, on every pooled connection, and still after a migration adds a column to the table.
describe(`${ObjectsRepository.name} (batched prepared reads)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: ObjectsRepository;
  const uploading = object(`obj_${'a'.repeat(32)}`, 'UPLOADING');
  const readable = object(`obj_${'b'.repeat(32)}`, 'READ_ONLY');

  beforeAll(async () => {
    ({ dataSource, close } = await objectMetadataDatabase('om_read'));
    sut = new ObjectsRepository(dataSource);
    await sut.transaction((manager) => sut.insertMany(manager, [uploading, readable]));
  });

  afterAll(() => close?.());

  it('should find an object of its org only, with every field', async () => {
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => sut.findInOrg(ORG, uploading.id)),
    );
    reads.forEach((found) => expect(found).toEqual(uploading));
    await expect(sut.findInOrg(randomUUID(), uploading.id)).resolves.toBeNull();
  });

  it('should answer each concurrent read of one batch with its own row, org and state', async () => {
    const otherOrg = randomUUID();
    const missing = `obj_${'c'.repeat(32)}`;
    const [mine, notMine, none, byKey, uploadingByKey, noKey] = await Promise.all([
      sut.findInOrg(ORG, readable.id),
      sut.findInOrg(otherOrg, uploading.id),
      sut.findInOrg(ORG, missing),
      sut.findReadableByKey(readable.objectKey),
      sut.findReadableByKey(uploading.objectKey),
      sut.findReadableByKey(`org-r/objects/${missing}/token`),
    ]);
    expect(mine).toEqual(readable);
    expect(notMine).toBeNull();
    expect(none).toBeNull();
    expect(byKey).toEqual(readable);
    expect(uploadingByKey).toBeNull();
    expect(noKey).toBeNull();
  });

  it('should find a READ_ONLY object by its key, and no object still uploading', async () => {
    await expect(sut.findReadableByKey(readable.objectKey)).resolves.toEqual(readable);
    await expect(sut.findReadableByKey(uploading.objectKey)).resolves.toBeNull();
  });

  it('should keep answering after a migration adds a column to the table', async () => {
    await Promise.all(Array.from({ length: 20 }, () => sut.findInOrg(ORG, readable.id)));
    await dataSource.query(`ALTER TABLE objects ADD COLUMN later_column text`);
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => sut.findInOrg(ORG, readable.id)),
    );
    reads.forEach((found) => expect(found).toEqual(readable));
    await expect(sut.findReadableByKey(readable.objectKey)).resolves.toEqual(readable);
  });
});
