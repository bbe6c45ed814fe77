import { Module } from '@nestjs/common';
import { AdminQuotasController } from './admin-quotas.controller';
import { AdminController } from './admin.controller';

/** The /admin endpoints. Needs `IdentityModule` and `ServiceClientsModule` (global) imported by the app. */
@Module({ controllers: [AdminController, AdminQuotasController] })
export class AdminModule {}
