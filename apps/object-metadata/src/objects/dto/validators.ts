import { registerDecorator, ValidationOptions } from 'class-validator';

/** Metadata limits: at most 64 entries, keys up to 256 bytes, values up to 4 KiB, 32 KiB in all. */
export const METADATA_LIMITS = { entries: 64, keyBytes: 256, valueBytes: 4096, totalBytes: 32_768 };

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** A non-empty string of at most `max` UTF-8 bytes. */
export function MaxUtf8Bytes(max: number, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'maxUtf8Bytes',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be 1 to ${max} bytes long`, ...options },
      validator: {
        validate: (v: unknown) => typeof v === 'string' && v.length > 0 && bytes(v) <= max,
      },
    });
}

/** A string → string map within METADATA_LIMITS (null allowed). */
export function IsStringRecord(options?: ValidationOptions) {
  const { entries, keyBytes, valueBytes, totalBytes } = METADATA_LIMITS;
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStringRecord',
      target: target.constructor,
      propertyName,
      options: {
        message:
          `${propertyName} must be an object of string values with at most ${entries} entries, ` +
          `keys of 1-${keyBytes} bytes, values up to ${valueBytes} bytes and ${totalBytes} bytes in all`,
        ...options,
      },
      validator: {
        validate(v: unknown) {
          if (v === null || v === undefined) return true;
          if (typeof v !== 'object' || Array.isArray(v)) return false;
          const pairs = Object.entries(v as Record<string, unknown>);
          if (pairs.length > entries) return false;
          let total = 0;
          for (const [k, value] of pairs) {
            if (typeof value !== 'string') return false;
            if (k.length === 0 || bytes(k) > keyBytes || bytes(value) > valueBytes) return false;
            total += bytes(k) + bytes(value);
          }
          return total <= totalBytes;
        },
      },
    });
}
