import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ObjectEntity } from './object.entity';

/** The only place that touches the `objects` table. */
@Injectable()
export class ObjectsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction: a state change and its outbox event commit together or not at all. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(manager: EntityManager, object: ObjectEntity): Promise<void> {
    await manager.insert(ObjectEntity, object);
  }

  findInOrg(orgId: string, id: string): Promise<ObjectEntity | null> {
    return this.dataSource.getRepository(ObjectEntity).findOneBy({ orgId, id });
  }
}
