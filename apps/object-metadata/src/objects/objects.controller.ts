import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { CreateObjectDto } from './dto/create-object.dto';
import { ObjectRecordDto } from './dto/object-view.dto';
import { ObjectsService } from './objects.service';

/** Internal HTTP API, called by the gateway once it has authenticated the org. */
@Controller('internal/objects')
export class ObjectsController {
  constructor(private readonly objects: ObjectsService) {}

  @Post()
  create(@Body() cmd: CreateObjectDto): Promise<ObjectRecordDto> {
    return this.objects.create(cmd);
  }

  @Get(':id')
  get(
    @Param('id') id: string,
    @Query('orgId', new ParseUUIDPipe()) orgId: string,
  ): Promise<ObjectRecordDto> {
    return this.objects.get(orgId, id);
  }
}
