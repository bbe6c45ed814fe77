import { randomUUID } from 'node:crypto';
import { QUOTA_EXCEEDED } from '@lib/contracts';
import { DataSource } from 'typeorm';
import { OrgQuotas1768300000000 } from '../src/database/migrations/1768300000000-org-quotas';
import { OrgQuotasRepository } from '../src/quotas/org-quotas.repository';
import { StorageQuotas } from '../src/quotas/storage-quotas.service';
import { objectMetadataDatabase } from './object-metadata-database';

// The quota counters in a real Postgres: exact under concurrency (no overshoot), earlier changes first,
// removals always pass.
describe(`${StorageQuotas.name} (Postgres)`, () => {
  let close: () => Promise<void>;
  let dataSource: DataSource;
  let sut: StorageQuotas;

  const charge = (changes: { orgId: string; files: number; bytes: number }[]) =>
    dataSource.transaction((m) => sut.charge(m, changes));
  const codes = (answers: (Error | null)[]) =>
    answers.map((a) => (a ? (a as Error & { code: string }).code : 'ok'));

  beforeAll(async () => {
    ({ dataSource, close } = await objectMetadataDatabase('om_quotas'));
    sut = new StorageQuotas(new OrgQuotasRepository(dataSource));
  });

  afterAll(() => close?.());

  it('should admit exactly as many files as the quota has room for when 40 transactions charge at once', async () => {
    const org = randomUUID();
    await charge([{ orgId: org, files: 3, bytes: 30 }]);
    await sut.setLimits(org, { maxBytes: null, maxFiles: 10 });

    const answers = await Promise.all(
      Array.from({ length: 40 }, () => charge([{ orgId: org, files: 1, bytes: 1 }])),
    );

    expect(answers.filter(([a]) => a === null)).toHaveLength(7);
    expect(codes(answers.flat()).filter((c) => c === QUOTA_EXCEEDED)).toHaveLength(33);
    expect(await sut.view(org)).toEqual({
      maxBytes: null,
      maxFiles: 10,
      usedBytes: 37,
      usedFiles: 10,
    });
  });

  it('should weigh the changes of an org at its limit one by one, earlier first, and leave other orgs alone', async () => {
    const [full, free] = [randomUUID(), randomUUID()];
    await sut.setLimits(full, { maxBytes: 100, maxFiles: null });
    await charge([{ orgId: full, files: 1, bytes: 90 }]);

    const answers = await charge([
      { orgId: full, files: 1, bytes: 6 },
      { orgId: free, files: 1, bytes: 1_000_000 },
      { orgId: full, files: 1, bytes: 50 },
      { orgId: full, files: 0, bytes: -20 },
      { orgId: full, files: 1, bytes: 4 },
    ]);

    expect(codes(answers)).toEqual(['ok', 'ok', QUOTA_EXCEEDED, 'ok', 'ok']);
    expect(answers[2]?.message).toBe(
      "storage quota exceeded: 50 more bytes would pass the organization's 100 (96 stored)",
    );
    expect(await sut.view(full)).toMatchObject({ usedBytes: 80, usedFiles: 3 });
    expect(await sut.view(free)).toMatchObject({ usedBytes: 1_000_000, usedFiles: 1 });
  });

  it('should let removals through over a lowered quota, and refuse any addition until there is room', async () => {
    const org = randomUUID();
    await charge([{ orgId: org, files: 5, bytes: 500 }]);
    await sut.setLimits(org, { maxBytes: 100, maxFiles: 2 });

    expect(codes(await charge([{ orgId: org, files: 1, bytes: 0 }]))).toEqual([QUOTA_EXCEEDED]);
    expect(codes(await charge([{ orgId: org, files: 0, bytes: 1 }]))).toEqual([QUOTA_EXCEEDED]);
    expect(codes(await charge([{ orgId: org, files: -4, bytes: -450 }]))).toEqual(['ok']);
    expect(codes(await charge([{ orgId: org, files: 1, bytes: 50 }]))).toEqual(['ok']);
    expect(await sut.view(org)).toEqual({
      maxBytes: 100,
      maxFiles: 2,
      usedBytes: 100,
      usedFiles: 2,
    });
  });

  it('should start the counters from the records when the migration runs: live files of every kind', async () => {
    const org = randomUUID();
    const q = (sql: string, params: unknown[] = []) => dataSource.query(sql, params);
    const object = (id: string, state: string, size: number | null) =>
      q(
        `INSERT INTO objects (id, org_id, org_key, name, content_type, state, size_bytes, object_key,
           create_time_ms) VALUES ($1, $2, 'mig', 'n', 'text', $3, $4, $5, 0)`,
        [id, org, state, size, `mig/objects/${id}`],
      );
    await object(`obj_mig_${randomUUID()}`, 'UPLOADING', null);
    await object(`obj_mig_${randomUUID()}`, 'READ_ONLY', 100);
    await object(`obj_mig_${randomUUID()}`, 'DELETED', 1_000);
    const [root, live, gone] = [randomUUID(), randomUUID(), randomUUID()];
    await q(`INSERT INTO org_folders (id, org_id, parent_id, name) VALUES ($1, $2, NULL, '')`, [
      root,
      org,
    ]);
    await q(`INSERT INTO org_folders (id, org_id, parent_id, name) VALUES ($1, $2, $3, 'live')`, [
      live,
      org,
      root,
    ]);
    await q(
      `INSERT INTO org_folders (id, org_id, parent_id, name, deleted_by) VALUES ($1, $2, $3, 'gone', 1)`,
      [gone, org, root],
    );
    const file = (folder: string, size: number) =>
      q(
        `INSERT INTO org_files (id, org_id, org_key, folder_id, name, object_key, size_bytes, version)
         VALUES ($1, $2, 'mig', $3, $1, $4, $5, 1)`,
        [`file_${randomUUID()}`, org, folder, `mig/files/${randomUUID()}`, size],
      );
    await file(live, 10);
    await file(gone, 10_000);
    await q(
      `INSERT INTO run_files (id, org_id, org_key, workflow_id, run_id, edge, direction, object_key,
         filename, size_bytes, version) VALUES ($1, $2, 'mig', 'w', 'r', 'e', 'input', $3, 'f', 7, 1)`,
      [randomUUID(), org, `mig/workflows/${randomUUID()}`],
    );
    const runner = dataSource.createQueryRunner();
    try {
      await runner.query(`DROP TABLE org_quotas`);
      await new OrgQuotas1768300000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await sut.view(org)).toEqual({
      maxBytes: null,
      maxFiles: null,
      usedBytes: 117,
      usedFiles: 4,
    });
  });

  it('should count an org with no row as unlimited and empty, and keep its counters when limits are set', async () => {
    const org = randomUUID();
    expect(await sut.view(org)).toEqual({
      maxBytes: null,
      maxFiles: null,
      usedBytes: 0,
      usedFiles: 0,
    });
    await charge([{ orgId: org, files: 2, bytes: 20 }]);
    expect(await sut.setLimits(org, { maxBytes: 1_000, maxFiles: 5 })).toEqual({
      maxBytes: 1_000,
      maxFiles: 5,
      usedBytes: 20,
      usedFiles: 2,
    });
    expect(await sut.setLimits(org, { maxBytes: null, maxFiles: null })).toMatchObject({
      maxBytes: null,
      maxFiles: null,
      usedFiles: 2,
    });
  });
});
