import { EventType, Topic } from '@lib/contracts';
import { runCreated, storageFileUpdated } from '../test/factories';
import { buildCloudEvent, envelopeProblem, eventHeaders } from './cloud-event';
import { uuidv7Time } from './uuid-v7';

describe('buildCloudEvent', () => {
  it('should build a CloudEvents 1.0 envelope when given a payload', () => {
    const data = storageFileUpdated({ occurredAt: '2026-11-23T11:00:00+01:00' });
    const before = Date.now();
    const sut = buildCloudEvent(Topic.StorageFileUpdated, data, {
      source: '/object-metadata',
      subject: data.objectId,
    });
    expect(sut).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      source: '/object-metadata',
      type: 'com.platform.storage_file.updated.v1',
      time: '2026-11-23T10:00:00.000Z',
      subject: data.objectId,
      datacontenttype: 'application/json',
      data,
    });
    expect(uuidv7Time(sut.id)).toBeGreaterThanOrEqual(before);
  });

  it('should drop undefined fields and prototypes from data when copying it', () => {
    const data = { ...runCreated(), extra: undefined };
    const sut = buildCloudEvent(Topic.RunCreated, data, { source: '/s', subject: 'x' });
    expect(Object.keys(sut.data)).not.toContain('extra');
    expect(sut.data).not.toBe(data);
  });

  it('should use the current time when occurredAt does not parse', () => {
    const sut = buildCloudEvent(Topic.RunCreated, runCreated({ occurredAt: 'nope' }), {
      source: '/s',
      subject: 'x',
    });
    expect(Math.abs(Date.parse(sut.time) - Date.now())).toBeLessThan(60_000);
  });

  it('should give every event its own id when built twice', () => {
    const data = runCreated();
    const a = buildCloudEvent(Topic.RunCreated, data, { source: '/s', subject: 'x' });
    const b = buildCloudEvent(Topic.RunCreated, data, { source: '/s', subject: 'x' });
    expect(a.id).not.toBe(b.id);
  });
});

describe('eventHeaders', () => {
  it('should announce structured mode and copy id and type when built', () => {
    expect(
      eventHeaders({ id: 'i', type: 't' }, { traceparent: '00-a-b-01', tracestate: 'k=v' }),
    ).toEqual({
      'content-type': 'application/cloudevents+json',
      ce_id: 'i',
      ce_type: 't',
      traceparent: '00-a-b-01',
      tracestate: 'k=v',
    });
  });

  it('should carry no trace header when there is no trace', () => {
    expect(Object.keys(eventHeaders({ id: 'i', type: 't' }))).toEqual([
      'content-type',
      'ce_id',
      'ce_type',
    ]);
  });
});

describe('envelopeProblem', () => {
  const valid = () =>
    JSON.parse(
      JSON.stringify(
        buildCloudEvent(Topic.RunCreated, runCreated(), { source: '/s', subject: 'run_1' }),
      ),
    ) as Record<string, unknown>;

  it('should accept an envelope of the topic when valid, with extension attributes', () => {
    expect(envelopeProblem(valid(), Topic.RunCreated)).toBeUndefined();
    expect(envelopeProblem({ ...valid(), partitionkey: 'x' }, Topic.RunCreated)).toBeUndefined();
  });

  it.each([
    ['not an object', () => 'str', /JSON object/],
    ['an array', () => [], /JSON object/],
    ['a wrong specversion', () => ({ ...valid(), specversion: '0.3' }), /specversion/],
    ['a non-UUID id', () => ({ ...valid(), id: 'abc' }), /id/],
    ['an empty source', () => ({ ...valid(), source: '' }), /source/],
    ['another topic type', () => ({ ...valid(), type: EventType[Topic.RunUpdated] }), /type/],
    ['a bad time', () => ({ ...valid(), time: 'yesterday' }), /time/],
    ['no subject', () => ({ ...valid(), subject: undefined }), /subject/],
    [
      'another data content type',
      () => ({ ...valid(), datacontenttype: 'text/xml' }),
      /datacontenttype/,
    ],
    ['null data', () => ({ ...valid(), data: null }), /data/],
  ])('should reject the envelope when it has %s', (_what, make, reason) => {
    expect(envelopeProblem(make(), Topic.RunCreated)).toMatch(reason);
  });
});
