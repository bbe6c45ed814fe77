import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addAuthSecuritySchemes } from '@lib/auth';

/** The gateway's own OpenAPI document: Swagger UI at `/docs`, JSON at `/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = addAuthSecuritySchemes(
    new DocumentBuilder()
      .setTitle('Storage & flows platform')
      .setDescription(
        'Objects API, storage usage and public download, org storage and triggers, flows, ' +
          'resource download URLs, and operator endpoints (`/admin`, served on ' +
          'the management port only, never on the public one).',
      )
      .setVersion('1'),
  ).build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
