import { dataSourceOptions } from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES } from '@lib/events';
import { createTestDatabase, TestDatabase } from '@lib/testing';
import { DataSource } from 'typeorm';
import type { ObjectMetadataConfig } from '../src/config/object-metadata.config';
import { OBJECT_METADATA_SCHEMA } from '../src/database/migrations';
import { ObjectEntity } from '../src/objects/object.entity';

/** A fresh migrated database and a DataSource on object-metadata's schema; `close` drops both. */
export async function objectMetadataDatabase(
  name: string,
): Promise<{ db: TestDatabase; dataSource: DataSource; close: () => Promise<void> }> {
  const db = await createTestDatabase(name);
  const dataSource = new DataSource(
    dataSourceOptions({
      url: db.url,
      schema: OBJECT_METADATA_SCHEMA,
      entities: [ObjectEntity, ...EVENTS_PUBLISHER_ENTITIES],
    }),
  );
  await dataSource.initialize();
  return {
    db,
    dataSource,
    close: async () => {
      await dataSource.destroy();
      await db.drop();
    },
  };
}

/** `ObjectsService`'s settings in these tests: objects of up to 1 GiB. */
export const OBJECTS_CONFIG = {
  objects: { maxBytes: 1024 ** 3 },
} as unknown as ObjectMetadataConfig;
