import { Module } from '@nestjs/common';
import { ObjectsController } from './objects.controller';
import { ObjectsRepository } from './objects.repository';
import { ObjectsService } from './objects.service';

@Module({
  controllers: [ObjectsController],
  providers: [ObjectsService, ObjectsRepository],
})
export class ObjectsModule {}
