import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

// The Ed25519 keys of service tokens (service-tokens.ts): each app of the platform signs with a private key
// of its own (`SERVICE_TOKEN_PRIVATE_KEY`, a Secret) and verifies with the public keys of all five
// (`SERVICE_TOKEN_PUBLIC_KEYS`, the same list everywhere). An app that leaks its key can speak only as itself.

/** The apps of the platform: a service token's issuer and audience are among them. */
export const SERVICE_NAMES = [
  'gateway',
  'object-metadata',
  'storage',
  'flow-orchestrator',
  'usage-aggregator',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(value: unknown): value is ServiceName {
  return (SERVICE_NAMES as readonly unknown[]).includes(value);
}

// DER prefixes of an Ed25519 key as PKCS#8 (private) and SubjectPublicKeyInfo (public): the 32 raw bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** A 32-byte key written as unpadded base64url (43 characters), or null. */
function rawKey(text: string): Buffer | null {
  if (!RAW_KEY.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === 32 ? bytes : null;
}

/** Why `text` is not a private key (its 32-byte seed in base64url), or undefined when it is one. */
export function privateKeyProblem(name: string, text: string): string | undefined {
  return rawKey(text)
    ? undefined
    : `${name} must be an Ed25519 private key: its 32-byte seed in base64url (43 characters)`;
}

export function parsePrivateKey(text: string): KeyObject {
  const seed = rawKey(text);
  if (!seed) throw new Error(privateKeyProblem('the private key', text));
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

function publicKeyOf(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The public half of a private key, as `SERVICE_TOKEN_PUBLIC_KEYS` lists it (base64url). */
export function publicKeyText(privateKey: KeyObject): string {
  return createPublicKey(privateKey)
    .export({ format: 'der', type: 'spki' })
    .subarray(12)
    .toString('base64url');
}

/** The public keys of each app; an app may have two while its key is being replaced. */
export type PublicKeySet = ReadonlyMap<ServiceName, readonly KeyObject[]>;

interface ParsedKeys {
  keys: Map<ServiceName, KeyObject[]>;
  texts: Map<ServiceName, string[]>;
}

function parseList(text: string): ParsedKeys | string {
  const keys = new Map<ServiceName, KeyObject[]>();
  const texts = new Map<ServiceName, string[]>();
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const at = entry.indexOf(':');
    const name = entry.slice(0, at);
    const raw = rawKey(entry.slice(at + 1));
    if (at < 1 || !isServiceName(name) || !raw) {
      return `'${entry.slice(0, 40)}' is not <app>:<Ed25519 public key in base64url> with <app> one of ${SERVICE_NAMES.join(', ')}`;
    }
    keys.set(name, [...(keys.get(name) ?? []), publicKeyOf(raw)]);
    texts.set(name, [...(texts.get(name) ?? []), entry.slice(at + 1)]);
  }
  const missing = SERVICE_NAMES.filter((name) => !keys.has(name));
  if (missing.length > 0) return `it names no key of ${missing.join(', ')}`;
  return { keys, texts };
}

/** Why `text` is not a list of every app's public keys, or undefined when it is one. */
export function publicKeysProblem(name: string, text: string): string | undefined {
  const parsed = parseList(text);
  return typeof parsed === 'string'
    ? `${name} must list the public key of every app as <app>:<key>, comma-separated: ${parsed}`
    : undefined;
}

/**
 * The platform's public keys, checked against the app's own private key: the list must hold its public half
 * under the app's name, or the other apps would refuse every token it signs.
 */
export function parsePublicKeys(
  text: string,
  self: ServiceName,
  privateKey: KeyObject,
): PublicKeySet {
  const parsed = parseList(text);
  if (typeof parsed === 'string') throw new Error(publicKeysProblem('the public key list', text));
  if (!parsed.texts.get(self)?.includes(publicKeyText(privateKey))) {
    throw new Error(
      `SERVICE_TOKEN_PUBLIC_KEYS does not list the public key of this app's SERVICE_TOKEN_PRIVATE_KEY as ${self}:${publicKeyText(privateKey)}`,
    );
  }
  return parsed.keys;
}

/** A new key pair per app, as the environment takes them (the `service-keys` command, tests, local runs). */
export function generateServiceKeys(): {
  privateKeys: Record<ServiceName, string>;
  publicKeys: string;
} {
  const privateKeys = {} as Record<ServiceName, string>;
  const publicKeys: string[] = [];
  for (const name of SERVICE_NAMES) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    privateKeys[name] = jwk.d!;
    publicKeys.push(`${name}:${jwk.x!}`);
  }
  return { privateKeys, publicKeys: publicKeys.join(',') };
}
