import { randomUUID } from 'node:crypto';
import {
  newKeyToken,
  OBJECT_KEY_MAX_BYTES,
  objectsApiKey,
  orgFileKey,
  parseObjectKey,
  runFileKey,
} from './object-keys';

const OBJECT_ID = 'obj_0192b3c4d5e6f708192a3b4c5d6e7f80';

describe('object keys', () => {
  it('should follow the structured format of each kind when a key is generated', () => {
    const wf = randomUUID();
    const run = randomUUID();
    expect(objectsApiKey('acme', OBJECT_ID)).toMatch(
      new RegExp(`^acme/objects/${OBJECT_ID}/[A-Za-z0-9_-]{32}$`),
    );
    expect(orgFileKey('acme')).toMatch(/^acme\/files\/[A-Za-z0-9_-]{32}$/);
    expect(runFileKey('acme', wf, run, 'outputs', 'report.pdf')).toMatch(
      new RegExp(`^acme/workflows/${wf}/runs/${run}/outputs/[A-Za-z0-9_-]{32}/report\\.pdf$`),
    );
    expect(parseObjectKey(objectsApiKey('acme', OBJECT_ID))).toEqual({
      kind: 'object',
      orgKey: 'acme',
    });
    expect(parseObjectKey(orgFileKey('acme-2'))).toEqual({ kind: 'org_file', orgKey: 'acme-2' });
    expect(parseObjectKey(runFileKey('acme', wf, run, 'inputs', 'résumé 1.txt'))).toEqual({
      kind: 'run_file',
      orgKey: 'acme',
    });
  });

  it('should carry at least 128 random bits per token when a token is generated', () => {
    const token = newKeyToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(24); // 192 bits
    // Every bit position takes both values over a few hundred tokens (no constant bits).
    let ones = Buffer.alloc(24);
    let zeros = Buffer.alloc(24);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(newKeyToken(), 'base64url');
      ones = Buffer.from(ones.map((v, j) => v | b[j]));
      zeros = Buffer.from(zeros.map((v, j) => v | (~b[j] & 0xff)));
    }
    expect([...ones].every((v) => v === 0xff)).toBe(true);
    expect([...zeros].every((v) => v === 0xff)).toBe(true);
  });

  it('should never repeat a key when 100,000 keys are generated', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 100_000; i++) keys.add(objectsApiKey('acme', OBJECT_ID));
    expect(keys.size).toBe(100_000);
    const tokens = new Set<string>();
    for (let i = 0; i < 100_000; i++) tokens.add(orgFileKey('acme').slice('acme/files/'.length));
    expect(tokens.size).toBe(100_000);
  });

  it('should refuse anything that is not a generated key when a key is parsed', () => {
    const token = newKeyToken();
    for (const bad of [
      '',
      'acme',
      `acme/files/${token}/x`,
      `acme/files/${token.slice(1)}`,
      `Acme/files/${token}`,
      `../acme/files/${token}`,
      `acme/objects/obj_123/${token}`,
      `acme/workflows/w/runs/r/both/${token}/f.txt`,
      `acme/workflows/w/runs/r/inputs/${token}/a/b.txt`,
      `acme/workflows/w/runs/r/inputs/${token}/bad\u0000name`,
      `acme/workflows/w/runs/r/inputs/${token}/${'x'.repeat(OBJECT_KEY_MAX_BYTES)}`,
    ]) {
      expect(parseObjectKey(bad)).toBeNull();
    }
  });
});
