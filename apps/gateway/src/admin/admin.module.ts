import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';

/** The /admin endpoints. Needs `IdentityModule` (global) imported by the app. */
@Module({ controllers: [AdminController] })
export class AdminModule {}
