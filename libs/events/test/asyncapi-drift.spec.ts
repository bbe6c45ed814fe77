import { EventActor, EventClass, EventType, Topic } from '@lib/contracts';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ASYNCAPI_PATH } from './asyncapi';

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  required?: string[];
  additionalProperties?: boolean;
  properties?: Record<string, Schema>;
  allOf?: Schema[];
  $ref?: string;
}

const doc = parse(readFileSync(ASYNCAPI_PATH, 'utf8')) as {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  components: { messages: Record<string, { payload: Schema }>; schemas: Record<string, Schema> };
};

const resolve = (s: Schema): Schema =>
  s.$ref ? resolve(doc.components.schemas[s.$ref.replace('#/components/schemas/', '')]) : s;

/** The `data` schema and the envelope `type` const of a topic's message, following the document's refs. */
function messageOf(topic: Topic): { data: Schema; type: unknown } {
  const channel = Object.values(doc.channels).find((c) => c.address === topic);
  if (!channel) throw new Error(`no channel for ${topic}`);
  const ref = Object.values(channel.messages)[0].$ref.replace('#/components/messages/', '');
  const envelope = resolve(doc.components.messages[ref].payload);
  // The allOf member that narrows the generic envelope: its `data` is a $ref to the topic's schema.
  const own = (envelope.allOf ?? []).find((s) => s.properties?.data?.$ref);
  if (!own?.properties?.data) throw new Error(`no data schema for ${topic}`);
  return { data: resolve(own.properties.data), type: own.properties.type?.const };
}

/** What the class-validator decorators of a class say about each property. */
function classContract(cls: new () => object) {
  const props = new Map<
    string,
    { optional: boolean; checks: Map<string, unknown[] | undefined> }
  >();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false)) {
    const p = props.get(m.propertyName) ?? { optional: false, checks: new Map() };
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') p.optional = true;
    if (m.type === 'customValidation' && m.name) p.checks.set(m.name, m.constraints);
    props.set(m.propertyName, p);
  }
  return props;
}

const nullable = (s: Schema) => Array.isArray(s.type) && s.type.includes('null');
const baseType = (s: Schema) =>
  Array.isArray(s.type) ? s.type.filter((t) => t !== 'null')[0] : s.type;

function expectSchemaMatchesClass(schema: Schema, cls: new () => object) {
  const contract = classContract(cls);
  const properties = schema.properties ?? {};
  expect(Object.keys(properties).sort()).toEqual([...contract.keys()].sort());
  expect([...(schema.required ?? [])].sort()).toEqual(
    [...contract]
      .filter(([, p]) => !p.optional)
      .map(([name]) => name)
      .sort(),
  );
  expect(schema.additionalProperties).toBe(false);
  for (const [name, p] of contract) {
    const s = resolve(properties[name]);
    const where = `${cls.name}.${name}`;
    expect([where, nullable(s)]).toEqual([where, p.optional]);
    if (p.checks.has('isIn')) expect([where, s.enum]).toEqual([where, p.checks.get('isIn')?.[0]]);
    if (p.checks.has('isInt')) expect([where, baseType(s)]).toEqual([where, 'integer']);
    if (p.checks.has('min')) expect([where, s.minimum]).toEqual([where, p.checks.get('min')?.[0]]);
    if (p.checks.has('isUuid')) expect([where, s.format]).toEqual([where, 'uuid']);
    if (p.checks.has('isIso8601')) expect([where, s.format]).toEqual([where, 'date-time']);
    if (p.checks.has('isString')) expect([where, baseType(s)]).toEqual([where, 'string']);
    if (p.checks.has('isObject')) expect([where, baseType(s)]).toEqual([where, 'object']);
  }
}

describe('docs/asyncapi.yaml against @lib/contracts', () => {
  it.each(Object.values(Topic))('should describe every field of the %s contract class', (topic) => {
    const { data, type } = messageOf(topic);
    expect(type).toBe(EventType[topic]);
    expectSchemaMatchesClass(data, EventClass[topic]);
  });

  it('should describe the event actor as its contract class does', () => {
    expectSchemaMatchesClass(resolve({ $ref: '#/components/schemas/EventActor' }), EventActor);
  });
});
