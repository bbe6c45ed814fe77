import { QueryFailedError, type DataSource } from 'typeorm';
import { PgErrorCode, pgErrorOf, runTransaction, type Tx } from './transactions';

const pgFailure = (code: string, constraint?: string) =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(code), { code, constraint }));

/** A data source whose transactions fail with `failures`, in order, then run the work. */
const dataSourceFailing = (...failures: Error[]) => {
  const transaction = jest.fn(async (work: (tx: Tx) => Promise<unknown>) => {
    const failure = failures.shift();
    if (failure) throw failure;
    return work({} as Tx);
  });
  return { dataSource: { transaction } as unknown as DataSource, transaction };
};

describe('pgErrorOf', () => {
  it('should read the SQLSTATE and constraint of a failed query', () => {
    expect(pgErrorOf(pgFailure(PgErrorCode.UniqueViolation, 'orgs_key_uq'))).toEqual({
      code: '23505',
      constraint: 'orgs_key_uq',
    });
    expect(pgErrorOf(pgFailure(PgErrorCode.DeadlockDetected))).toEqual({ code: '40P01' });
  });

  it('should answer undefined for any other error', () => {
    expect(pgErrorOf(new Error('boom'))).toBeUndefined();
    expect(pgErrorOf(null)).toBeUndefined();
    expect(pgErrorOf('text')).toBeUndefined();
  });
});

describe('runTransaction', () => {
  it('should not retry by default', async () => {
    const deadlock = pgFailure(PgErrorCode.DeadlockDetected);
    const { dataSource, transaction } = dataSourceFailing(deadlock);
    await expect(runTransaction(dataSource, () => Promise.resolve(1))).rejects.toBe(deadlock);
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('should run again after a deadlock or a serialization failure, up to its attempts', async () => {
    const { dataSource, transaction } = dataSourceFailing(
      pgFailure(PgErrorCode.DeadlockDetected),
      pgFailure(PgErrorCode.SerializationFailure),
    );
    await expect(
      runTransaction(dataSource, () => Promise.resolve(7), { attempts: 3 }),
    ).resolves.toBe(7);
    expect(transaction).toHaveBeenCalledTimes(3);
  });

  it('should map the Postgres error of the last try, and leave other errors as they are', async () => {
    const mapError = (pg: { code: string }) =>
      pg.code === PgErrorCode.DeadlockDetected ? new Error('mapped') : undefined;
    const deadlocks = dataSourceFailing(
      pgFailure(PgErrorCode.DeadlockDetected),
      pgFailure(PgErrorCode.DeadlockDetected),
    );
    await expect(
      runTransaction(deadlocks.dataSource, () => Promise.resolve(1), { attempts: 2, mapError }),
    ).rejects.toThrow('mapped');
    expect(deadlocks.transaction).toHaveBeenCalledTimes(2);

    const unique = pgFailure(PgErrorCode.UniqueViolation);
    const other = dataSourceFailing(unique);
    await expect(
      runTransaction(other.dataSource, () => Promise.resolve(1), { attempts: 3, mapError }),
    ).rejects.toBe(unique);
    expect(other.transaction).toHaveBeenCalledTimes(1);
  });
});
