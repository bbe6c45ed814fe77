import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { addAuthSecuritySchemes } from '@lib/auth';
import { completeErrorResponses } from './error-responses';

/** The gateway's own OpenAPI document, from the routes' decorators and the errors every route answers. */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = addAuthSecuritySchemes(
    new DocumentBuilder()
      .setTitle('Storage & flows platform')
      .setDescription(
        'The Objects API, storage usage and public download, org storage and flow triggers, flows, resource ' +
          'download URLs, and operator endpoints (`/admin`, served on the management port only, never ' +
          'on the public one). Every error answers JSON: `{"error": {"code", "message", "details"?, ' +
          '"requestId"}}`, or `{"success": false, "error": {"code", "message"}}` under `/api/private/`.',
      )
      .setVersion('1'),
  ).build();
  return completeErrorResponses(SwaggerModule.createDocument(app, config));
}

/** Swagger UI at `/docs`, the JSON document at `/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
