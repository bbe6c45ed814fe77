import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { CommonErrorCode, ERROR_CODE_OF_STATUS } from '@lib/errors';

/** The platform's JSON error (`HttpErrorFilter`): every error status of every route but org storage's. */
export const ERROR_SCHEMA_NAME = 'Error';
/** Org storage's envelope (`/api/private/…`: org storage and flow triggers). */
export const ORG_STORAGE_ERROR_SCHEMA_NAME = 'OrgStorageError';
const ORG_STORAGE_PREFIX = '/api/private/';

const EXAMPLE_REQUEST_ID = '3f2c9a4e-6b1d-4c8e-9f7a-2d5b8e1c0a47';

const errorSchemas = {
  [ERROR_SCHEMA_NAME]: {
    type: 'object',
    description: 'An error: a stable machine-readable code, a message for people, the request id.',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'requestId'],
        additionalProperties: false,
        properties: {
          code: {
            type: 'string',
            pattern: '^[A-Z][A-Z0-9_]*$',
            description: 'Stable, machine-readable (e.g. `VALIDATION_FAILED`, `OBJECT_NOT_FOUND`).',
          },
          message: { type: 'string', description: 'What is wrong, naming the field when one is.' },
          details: {
            description:
              'More about the error when there is more, e.g. each invalid field of a 400.',
          },
          requestId: {
            type: 'string',
            description:
              'Also the `x-request-id` response header; quote it when reporting a problem.',
          },
        },
      },
    },
  },
  [ORG_STORAGE_ERROR_SCHEMA_NAME]: {
    type: 'object',
    description: 'An error of org storage: `success` is false, with a stable code and a message.',
    required: ['success', 'error'],
    additionalProperties: false,
    properties: {
      success: { type: 'boolean', enum: [false] },
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
          message: { type: 'string' },
        },
      },
    },
  },
};

/** The code an error status carries unless the operation names its own (as the error filter answers). */
const DEFAULT_CODES: Record<number, string> = {
  ...ERROR_CODE_OF_STATUS,
  500: CommonErrorCode.Internal,
};

/** One documented error answer: when it happens, and an example of its code and message. */
export interface ErrorAnswer {
  description: string;
  code?: string;
  message?: string;
}

/** An example body of the platform's JSON error. */
export function errorExample(status: number, code?: string, message?: string) {
  return {
    error: {
      code: code ?? DEFAULT_CODES[status] ?? 'BAD_REQUEST',
      message: message ?? 'What is wrong, in words.',
      requestId: EXAMPLE_REQUEST_ID,
    },
  };
}

/**
 * Documents an operation's error statuses with the platform's JSON error and an example of each, e.g.
 * `@ApiErrors({ 404: { description: 'Object not found.', code: 'OBJECT_NOT_FOUND', message: '…' } })`.
 */
export function ApiErrors(answers: Record<number, ErrorAnswer>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(answers).map(([status, answer]) =>
      ApiResponse({
        status: Number(status),
        description: answer.description,
        content: {
          'application/json': {
            schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` },
            example: errorExample(
              Number(status),
              answer.code,
              answer.message ?? answer.description,
            ),
          },
        },
      }),
    ),
  );
}

/** Documents org storage's error statuses: their bodies are its envelope (`completeErrorResponses`). */
export function OrgStorageErrors(answers: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(answers).map(([status, description]) =>
      ApiResponse({ status: Number(status), description }),
    ),
  );
}

type Operation = OpenAPIObject['paths'][string]['get'] & object;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const WITH_BODY = new Set<string>(['post', 'put', 'patch']);

/**
 * Completes the error answers of every operation, as the code answers them whatever the route's own
 * decorators say: a guarded operation answers 401 to missing or invalid credentials; one that takes a body
 * answers 400 to a malformed one, 413 past its size limit and 415 to a media type it does not parse; any
 * answers 500 when something unexpected fails, and a public one 503 when a service behind it is down. Each error status without a body gets the JSON error the
 * filter sends (org storage's envelope under `/api/private/`) with an example.
 */
export function completeErrorResponses(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, ...errorSchemas };
  for (const [path, item] of Object.entries(document.paths)) {
    const orgStorage = path.startsWith(ORG_STORAGE_PREFIX);
    for (const method of METHODS) {
      const op: Operation | undefined = item[method];
      if (!op) continue;
      const responses = op.responses;
      const add = (status: number, description: string) => {
        responses[status] ??= { description };
      };
      if ((op.security ?? []).length > 0) add(401, 'Missing or invalid credentials.');
      if (op.requestBody || WITH_BODY.has(method)) {
        add(400, 'The request body is not valid JSON or not of this operation’s shape.');
        add(413, 'The request body is larger than this operation accepts.');
        add(415, 'The request body is of a media type this operation does not take.');
      }
      add(500, 'Internal server error.');
      // Every public route calls a service behind the gateway; the operator API's org routes do not.
      if (!path.startsWith('/admin/')) {
        add(503, 'A service behind the gateway is unavailable or did not answer in time; retry.');
      }
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        if (!(code >= 400) || !response || '$ref' in response || response.content) continue;
        response.content = {
          'application/json': orgStorage
            ? {
                schema: { $ref: `#/components/schemas/${ORG_STORAGE_ERROR_SCHEMA_NAME}` },
                example: {
                  success: false,
                  error: {
                    code: DEFAULT_CODES[code] ?? 'BAD_REQUEST',
                    message: response.description,
                  },
                },
              }
            : {
                schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` },
                example: errorExample(code, undefined, response.description),
              },
        };
      }
    }
  }
  return document;
}
