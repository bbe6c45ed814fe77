import { Global, Module } from '@nestjs/common';
import { s3Settings } from '@lib/app';
import { StorageClient } from '@lib/clients';
import { ServiceTokens } from '@lib/internal-http';
import { Presigner, s3CredentialProvider, SigningCredentials } from '@lib/s3';
import { ObjectMetadataConfig } from '../config/object-metadata.config';
import { ObjectBytesService } from './object-bytes.service';

/** Presigning with the bucket's credentials (no S3 client: nothing here calls S3) and the storage client. */
@Global()
@Module({
  providers: [
    {
      provide: ObjectBytesService,
      inject: [ObjectMetadataConfig, ServiceTokens],
      useFactory: async (config: ObjectMetadataConfig, tokens: ServiceTokens) => {
        const s3 = s3Settings(config.s3);
        const credentials = await SigningCredentials.load(s3CredentialProvider(s3));
        return new ObjectBytesService(
          new Presigner(s3, credentials),
          Presigner.internal(s3, credentials),
          StorageClient.connect({ baseUrl: config.services.storageUrl, tokens }),
        );
      },
    },
  ],
  exports: [ObjectBytesService],
})
export class BytesModule {}
