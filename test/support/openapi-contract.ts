import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** The platform's JSON error body (`@lib/errors`): what every error status without its own schema gets. */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        message: { type: 'string', minLength: 1 },
        details: {},
        requestId: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface OpenApiOperation {
  operationId?: string;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

interface OpenApiDocument {
  paths: Record<string, Partial<Record<Method, OpenApiOperation>>>;
  components: { schemas: Record<string, unknown> };
}

/** An operation the document lacks (an extension): its statuses and their component schema, if any. */
export interface ExtensionOperation {
  method: Method;
  path: string;
  operationId: string;
  responses: Record<number, string | null>;
}

export interface OpenApiContractOptions {
  /** Operations served beyond the document (e.g. publish/unpublish). */
  extensions?: ExtensionOperation[];
  /**
   * Error statuses any operation may answer although the document does not list them for every one
   * (e.g. 400 for validation, 401/403 for authentication); their bodies must match `ERROR_BODY_SCHEMA`.
   */
  generalErrorStatuses?: number[];
}

interface Operation {
  method: Method;
  template: string;
  operationId: string;
  pattern: RegExp;
  params: number;
  /** Status → schema name (null: documented without a JSON body schema). */
  responses: Map<number, string | null>;
  /** Error statuses documented elsewhere (`allowErrorStatuses`): their bodies are the error body. */
  alsoAllowed: Set<number>;
}

export interface CheckedResponse {
  operationId: string;
  status: number;
}

const SCHEMA_ID = 'openapi';

/**
 * Validates real responses against an OpenAPI 3.0 document with ajv: the response body of (method, path,
 * status) must match the operation's response schema (`additionalProperties: false`, enums, `nullable`,
 * `int32`/`int64` formats included); error statuses the operation documents without a schema, and the
 * general ones, must carry the platform's error body; any other status is a contract violation.
 */
export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly errorValidator: ValidateFunction;
  private readonly general: Set<number>;
  /** Every (operation, status) validated so far, e.g. `createObject 200`. */
  readonly checked = new Set<string>();

  constructor(document: OpenApiDocument, options: OpenApiContractOptions = {}) {
    this.ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    // JSON numbers are doubles: an int64 that is not a safe integer has already lost precision.
    this.ajv.addFormat('int64', {
      type: 'number',
      validate: (n: number) => Number.isSafeInteger(n),
    });
    // `#/components/schemas/X` → `openapi#/definitions/X`: the schemas as one ajv schema with refs intact.
    const definitions = JSON.parse(
      JSON.stringify(document.components.schemas).replaceAll(
        '"#/components/schemas/',
        `"${SCHEMA_ID}#/definitions/`,
      ),
    ) as Record<string, unknown>;
    this.ajv.addSchema({ $id: SCHEMA_ID, definitions });
    this.errorValidator = this.ajv.compile(ERROR_BODY_SCHEMA);
    this.general = new Set(options.generalErrorStatuses ?? []);

    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item) as [Method, OpenApiOperation][]) {
        const responses = new Map<number, string | null>();
        for (const [status, response] of Object.entries(op.responses)) {
          const ref = response.content?.['application/json']?.schema?.$ref;
          responses.set(Number(status), ref ? ref.replace('#/components/schemas/', '') : null);
        }
        this.add(method, template, op.operationId ?? `${method} ${template}`, responses);
      }
    }
    for (const ext of options.extensions ?? []) {
      const responses = new Map(
        Object.entries(ext.responses).map(([status, schema]) => [Number(status), schema]),
      );
      this.add(ext.method, ext.path, ext.operationId, responses);
    }
  }

  static load(file: string, options?: OpenApiContractOptions): OpenApiContract {
    return new OpenApiContract(JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument, options);
  }

  private add(
    method: Method,
    template: string,
    operationId: string,
    responses: Map<number, string | null>,
  ) {
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) =>
        part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    this.operations.push({
      method,
      template,
      operationId,
      pattern: new RegExp(`^${source}$`),
      params: (template.match(/\{/g) ?? []).length,
      responses,
      alsoAllowed: new Set(),
    });
  }

  /**
   * Error statuses one operation may answer beyond the document, e.g. those the platform documents in its
   * own OpenAPI document (413, 415, a 400 for query parameters): their bodies must be the error body.
   */
  allowErrorStatuses(operationId: string, statuses: number[]): void {
    const op = this.operations.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`no operation ${operationId} in the document`);
    for (const status of statuses) if (status >= 400) op.alsoAllowed.add(status);
  }

  /** The operation serving `method path` (a literal segment wins over a `{param}`), or undefined. */
  operationOf(method: string, path: string): Operation | undefined {
    const pathname = path.split('?')[0];
    return this.operations
      .filter((op) => op.method === method.toLowerCase() && op.pattern.test(pathname))
      .sort((a, b) => a.params - b.params)[0];
  }

  /** Problems of one response; an empty list when it honours the contract. */
  problems(method: string, path: string, status: number, body: unknown): string[] {
    const op = this.operationOf(method, path);
    if (!op) return [`${method} ${path}: no such operation in the document`];
    const where = `${op.operationId} (${method.toUpperCase()} ${op.template}) → ${status}`;
    let validate: ValidateFunction;
    if (op.responses.has(status) && op.responses.get(status)) {
      const name = op.responses.get(status)!;
      validate = this.validatorOf(name);
    } else if (
      (op.responses.has(status) || op.alsoAllowed.has(status) || this.general.has(status)) &&
      status >= 400
    ) {
      validate = this.errorValidator;
    } else {
      return [
        `${where}: status not documented (documented: ${[...op.responses.keys()].join(', ')})`,
      ];
    }
    this.checked.add(`${op.operationId} ${status}`);
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${where}: ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  }

  /** Throws with every problem when the response breaks the contract. */
  assertResponse(method: string, path: string, status: number, body: unknown): void {
    const problems = this.problems(method, path, status, body);
    if (problems.length > 0) {
      throw new Error(
        `response breaks the OpenAPI contract:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(body)}`,
      );
    }
  }

  /** Every (operationId, status) the document (and extensions) give a JSON schema. */
  schemaResponses(): string[] {
    return this.operations.flatMap((op) =>
      [...op.responses].filter(([, schema]) => schema).map(([s]) => `${op.operationId} ${s}`),
    );
  }

  private validatorOf(name: string): ValidateFunction {
    let validate = this.validators.get(name);
    if (!validate) {
      validate = this.ajv.getSchema(`${SCHEMA_ID}#/definitions/${name}`);
      if (!validate) throw new Error(`schema ${name} not found in the document`);
      this.validators.set(name, validate);
    }
    return validate;
  }
}
