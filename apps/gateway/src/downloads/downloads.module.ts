import { Module } from '@nestjs/common';
import { DownloadRateLimitGuard } from './download-rate-limit.guard';
import { DownloadsController } from './downloads.controller';

@Module({ controllers: [DownloadsController], providers: [DownloadRateLimitGuard] })
export class DownloadsModule {}
