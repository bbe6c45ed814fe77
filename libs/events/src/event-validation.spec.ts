import { EventClass, FileChange, FileDirection, RunStatus, Topic } from '@lib/contracts';
import fc from 'fast-check';
import { referenceProblems } from '../../contracts/test/class-check-reference';
import { runCreated, runUpdated, storageFileUpdated } from '../test/factories';
import { validateEventData } from './event-validation';

const valid: Record<Topic, () => object> = {
  [Topic.StorageFileUpdated]: storageFileUpdated,
  [Topic.RunCreated]: runCreated,
  [Topic.RunUpdated]: runUpdated,
};

/** Values around what the contracts accept: valid ones of every field, near misses, wrong types. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, '', 0, -1, 1, 2.5, 2 ** 53, true, [], {}),
  fc.constantFrom(...FileChange, ...FileDirection, ...RunStatus, 'user', 'system', 'CREATED'),
  fc.tuple(fc.uuid(), fc.boolean()).map(([u, upper]) => (upper ? u.toUpperCase() : u)),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom('2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00+01:00', '2026-11-23', 'now'),
  fc.record(
    {
      type: fc.constantFrom('user', 'api_key', 'system', 'robot', 1),
      id: fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)),
      extra: fc.boolean(),
    },
    { requiredKeys: [], noNullPrototype: true },
  ),
  fc.array(
    fc.record({ type: fc.constant('user'), id: fc.constant('u') }, { noNullPrototype: true }),
    {
      maxLength: 2,
    },
  ),
);

/** A valid payload of the topic with some fields changed, removed or added. */
const payload = (topic: Topic) =>
  fc
    .tuple(
      fc.dictionary(
        fc.constantFrom(...Object.keys(valid[topic]()), 'undeclared', 'orgKey', 'version', 'actor'),
        fieldValue,
        { maxKeys: 3, noNullPrototype: true },
      ),
      fc.subarray(Object.keys(valid[topic]()), { maxLength: 2 }),
    )
    .map(([changes, removed]) => {
      const data: Record<string, unknown> = { ...valid[topic](), ...changes };
      for (const key of removed) delete data[key];
      return data;
    });

describe(validateEventData.name, () => {
  it.each(Object.values(Topic))('should accept a valid %s payload in both modes', (topic) => {
    const data = valid[topic]();

    expect(validateEventData(topic, data, { closed: true })).toEqual({ ok: true, data });
    expect(validateEventData(topic, data, { closed: false })).toEqual({ ok: true, data });
  });

  it('should refuse an undeclared field only when closed', () => {
    const data = { ...storageFileUpdated(), colour: 'blue' };

    expect(validateEventData(Topic.StorageFileUpdated, data, { closed: true })).toEqual({
      ok: false,
      problems: ['colour: property colour should not exist'],
    });
    expect(validateEventData(Topic.StorageFileUpdated, data, { closed: false }).ok).toBe(true);
  });

  it('should name nested fields', () => {
    const data = storageFileUpdated({ actor: { type: 'robot', id: 'r' } as never });

    expect(validateEventData(Topic.StorageFileUpdated, data, { closed: false })).toEqual({
      ok: false,
      problems: ['actor.type: type must be one of the following values: user, api_key, system'],
    });
  });

  it('should refuse data that is not an object and topics without a contract', () => {
    expect(validateEventData(Topic.RunCreated, [], { closed: false })).toEqual({
      ok: false,
      problems: ['data must be a JSON object'],
    });
    expect(validateEventData('no.such' as Topic, {}, { closed: false })).toEqual({
      ok: false,
      problems: ['unknown topic no.such'],
    });
  });

  it.each(Object.values(Topic))(
    'should find exactly the problems plainToInstance + validate find, for %s payloads',
    async (topic) => {
      await fc.assert(
        fc.asyncProperty(payload(topic), fc.boolean(), fc.boolean(), async (data, closed, wire) => {
          // As published (undefined values kept) or as consumed (after a JSON round trip).
          const input = wire ? (JSON.parse(JSON.stringify(data)) as object) : data;
          const expected = await referenceProblems(EventClass[topic], input, { closed });
          const result = validateEventData(topic, input, { closed });

          expect(result.ok ? [] : result.problems).toEqual(expected);
        }),
        { numRuns: 400 },
      );
    },
  );
});
