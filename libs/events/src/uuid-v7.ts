import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one getrandom() call per 512 ids instead of one per id.
const POOL_SIZE = 16 * 512;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

let lastMs = -1;
let counter = 0;

function randomBytes10(): Buffer {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return out;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits. Ids from one process are
 * strictly increasing (RFC 9562 §6.2 method 1: the 12-bit `rand_a` field is a counter within a
 * millisecond, seeded at random; if it overflows, or the clock steps back, the timestamp is advanced by
 * one). Time-ordered ids keep the `processed_events` primary key append-mostly, unlike v4.
 */
export function uuidv7(now: number = Date.now()): string {
  const rnd = randomBytes10();
  if (now > lastMs) {
    lastMs = now;
    // Seed below 2^11 so a millisecond still has >= 2048 increments before it overflows.
    counter = ((rnd[0] << 8) | rnd[1]) & 0x7ff;
  } else if (++counter > 0xfff) {
    lastMs += 1;
    counter = ((rnd[0] << 8) | rnd[1]) & 0x7ff;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (rnd[2] & 0x3f);
  rnd.copy(b, 9, 3, 10);
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Unix-millisecond timestamp embedded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
