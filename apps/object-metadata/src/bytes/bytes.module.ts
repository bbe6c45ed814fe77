import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { s3Settings } from '@lib/app';
import { StorageClient } from '@lib/clients';
import { ServiceTokens } from '@lib/internal-http';
import { Presigner, s3CredentialProvider, SigningCredentials } from '@lib/s3';
import { ObjectMetadataEnv } from '../config/object-metadata.env';
import { ObjectBytesService } from './object-bytes.service';

/** Presigning with the bucket's credentials (no S3 client: nothing here calls S3) and the storage client. */
@Global()
@Module({
  providers: [
    {
      provide: ObjectBytesService,
      inject: [ConfigService, ServiceTokens],
      useFactory: async (config: ConfigService<ObjectMetadataEnv, true>, tokens: ServiceTokens) => {
        const s3 = s3Settings(config);
        const credentials = await SigningCredentials.load(s3CredentialProvider(s3));
        return new ObjectBytesService(
          new Presigner(s3, credentials),
          Presigner.internal(s3, credentials),
          StorageClient.connect({ baseUrl: config.get('STORAGE_URL', { infer: true }), tokens }),
        );
      },
    },
  ],
  exports: [ObjectBytesService],
})
export class BytesModule {}
