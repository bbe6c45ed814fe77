import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ASYNCAPI_PATH = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');

export interface ParsedAsyncApi {
  document: AsyncAPIDocumentInterface | undefined;
  errors: string[];
}

/** Parses docs/asyncapi.yaml with the official parser; `errors` are its diagnostics of severity error. */
export async function parseAsyncApi(): Promise<ParsedAsyncApi> {
  const { document, diagnostics } = await new Parser().parse(readFileSync(ASYNCAPI_PATH, 'utf8'));
  const errors = diagnostics
    .filter((d) => (d.severity as number) === (DiagnosticSeverity.Error as number))
    .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
  return { document, errors };
}

/** Validators of one channel's message: what a subscriber would check. */
export interface MessageContract {
  topic: string;
  payload: ValidateFunction;
  headers: ValidateFunction;
  key: ValidateFunction;
  examples: { name: string; headers: unknown; payload: unknown }[];
}

/**
 * ajv validators (draft-07, formats) of every channel's message, from the parser's resolved schemas. The parser's
 * `x-parser-*` annotations are unknown keywords, hence `strict: false`.
 */
export function messageContracts(
  document: AsyncAPIDocumentInterface,
): Map<string, MessageContract> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const contracts = new Map<string, MessageContract>();
  for (const channel of document.channels().all()) {
    const topic = channel.address();
    const [message] = channel.messages().all();
    if (!topic || !message) throw new Error(`channel ${channel.id()} has no address or message`);
    const kafkaBinding: { key?: object } | undefined = message.bindings().get('kafka')?.value();
    const keySchema = kafkaBinding?.key;
    if (!keySchema) throw new Error(`message of ${topic} has no Kafka key binding`);
    contracts.set(topic, {
      topic,
      payload: ajv.compile(message.payload()?.json() ?? {}),
      headers: ajv.compile(message.headers()?.json() ?? {}),
      key: ajv.compile(keySchema),
      examples: message
        .examples()
        .all()
        .map((e) => ({
          name: e.name() ?? '(unnamed)',
          headers: e.headers(),
          payload: e.payload(),
        })),
    });
  }
  return contracts;
}

/** ajv's errors of the last call of `validate`, one line each (for assertion messages). */
function describeErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/**
 * The three parts of a Kafka message a subscriber checks, each against its AsyncAPI schema (`value` is the
 * parsed JSON payload); one line per problem, none when the message is valid.
 */
export function violations(
  contract: MessageContract,
  m: { key: string | null; headers: Record<string, unknown>; value: unknown },
): string[] {
  const problems: string[] = [];
  if (!contract.key(m.key)) problems.push(...describeErrors(contract.key).map((e) => `key ${e}`));
  if (!contract.headers(m.headers)) {
    problems.push(...describeErrors(contract.headers).map((e) => `headers ${e}`));
  }
  if (!contract.payload(m.value)) {
    problems.push(...describeErrors(contract.payload).map((e) => `payload ${e}`));
  }
  return problems;
}
