import type { DataSource, EntityManager } from 'typeorm';

/**
 * A transaction's handle (or the data source's manager outside one). Services hand it from one repository
 * call to the next; only repositories run SQL on it.
 */
export type Tx = EntityManager;

/** The Postgres error codes (SQLSTATE) the apps react to. */
export const PgErrorCode = {
  UniqueViolation: '23505',
  ForeignKeyViolation: '23503',
  SerializationFailure: '40001',
  DeadlockDetected: '40P01',
  LockNotAvailable: '55P03',
} as const;

/** What Postgres said about a failed statement: its SQLSTATE and, for a constraint, its name. */
export interface PgError {
  code: string;
  constraint?: string;
}

/** The Postgres error under a failed TypeORM query (its `driverError`); undefined for any other error. */
export function pgErrorOf(err: unknown): PgError | undefined {
  const driver = (err as { driverError?: { code?: unknown; constraint?: unknown } } | null)
    ?.driverError;
  if (typeof driver?.code !== 'string') return undefined;
  return typeof driver.constraint === 'string'
    ? { code: driver.code, constraint: driver.constraint }
    : { code: driver.code };
}

/** Aborts after which the same transaction, run again from its start, may well succeed. */
const RETRYABLE: ReadonlySet<string> = new Set([
  PgErrorCode.SerializationFailure,
  PgErrorCode.DeadlockDetected,
]);

export interface TransactionOptions {
  /**
   * Tries in all while Postgres aborts the transaction as a deadlock victim or a serialization failure
   * (default 1: no retry). `work` then runs again from its start, so it must leave nothing behind outside
   * the transaction that a second run would get wrong.
   */
  attempts?: number;
  /** The error to throw for a Postgres error of the last try; undefined throws it as it is. */
  mapError?: (pg: PgError, err: unknown) => Error | undefined;
}

/** Runs `work` in one transaction of `dataSource`, retrying and mapping Postgres errors as `opts` say. */
export async function runTransaction<T>(
  dataSource: DataSource,
  work: (tx: Tx) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.transaction(work);
    } catch (err) {
      const pg = pgErrorOf(err);
      if (pg && RETRYABLE.has(pg.code) && attempt < attempts) continue;
      throw (pg && opts.mapError?.(pg, err)) ?? err;
    }
  }
}
