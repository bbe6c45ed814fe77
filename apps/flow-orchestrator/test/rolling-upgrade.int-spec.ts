import { randomUUID } from 'node:crypto';
import { type FlowDefinition, parseFlowDefinition } from '@lib/contracts';
import {
  dataSourceOptions,
  migrateAll,
  migrationNames,
  migrationStatus,
  schemaCheck,
} from '@lib/database';
import { EVENTS_PUBLISHER_ENTITIES } from '@lib/events';
import { createEmptyTestDatabase, type TestDatabase, waitFor } from '@lib/testing';
import { DataSource, type EntityManager } from 'typeorm';
import { FLOW_SCHEMA, flowMigrations } from '../src/database/migrations';
import { RunsRepository } from '../src/runs/runs.repository';

/** The release before this one: every migration but the newest. */
const PREVIOUS_RELEASE = flowMigrations.slice(0, -1);
const [NEWEST] = migrationNames(flowMigrations.slice(-1));

const ORG = randomUUID();
const FLOW: FlowDefinition = parseFlowDefinition({
  Flow: {
    DataWells: [{ Edge: 'in', Store: 'default', Source: 'upload', Key: 'data.txt' }],
    Steps: [{ ID: 'copy', Type: 'copy', Inputs: ['in'], Output: 'out' }],
    StartingStepID: 'copy',
  },
});

/** Opens once `open()` is called; until then `wait()` does not resolve. */
function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}

// A rolling upgrade of the flow-orchestrator: replicas of the previous release keep triggering runs and
// filling their upload edges while `migrate` applies the newest migration, and none of their requests
// fails; a replica built for the new schema is not ready until the migration is in, and ready after.
describe('flow-orchestrator rolling upgrade', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repo: RunsRepository;
  const source = (migrations: readonly unknown[]) => ({
    url: db.url,
    schema: FLOW_SCHEMA,
    migrations: [...migrations] as (new () => object)[],
    applicationName: 'migrate',
  });

  beforeAll(async () => {
    db = await createEmptyTestDatabase('rolling_upgrade');
    await migrateAll([source(PREVIOUS_RELEASE)]);
    dataSource = await new DataSource(
      dataSourceOptions({
        url: db.url,
        schema: FLOW_SCHEMA,
        entities: EVENTS_PUBLISHER_ENTITIES,
        applicationName: 'flow-orchestrator',
      }),
    ).initialize();
    repo = new RunsRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /**
   * What a replica of the previous release does for one run of `workflowName`: store the workflow, the run
   * and its upload edge in one transaction (held open at `hold` when given), move the run to WAITING, read
   * it back, fill its edge and start it.
   */
  async function previousReleaseRequest(
    workflowName: string,
    hold?: () => Promise<void>,
  ): Promise<string> {
    const runId = randomUUID();
    const now = new Date();
    await repo.transaction(async (m: EntityManager) => {
      const workflow = await repo.upsertWorkflow(m, {
        id: randomUUID(),
        orgId: ORG,
        orgKey: 'org-upgrade',
        name: workflowName,
        flow: FLOW,
      });
      await repo.insertRun(m, {
        id: runId,
        workflowId: workflow.id,
        orgId: ORG,
        orgKey: 'org-upgrade',
        workflowName: workflow.name,
        status: 'QUEUED',
        reason: null,
        definition: FLOW,
        payload: null,
        currentStepId: null,
        actor: { type: 'system', id: 'upgrade-test' },
        version: 1,
        createdAt: now,
        updatedAt: now,
      });
      await repo.insertEdges(m, [
        {
          runId,
          edge: 'in',
          store: 'default',
          objectName: 'data.txt',
          filename: 'data.txt',
          objectKey: `uploads/${runId}/in`,
          putUrl: `https://s3.invalid/uploads/${runId}/in`,
          expiresAt: new Date(now.getTime() + 600_000),
          inputKey: null,
          filledAt: null,
          createdAt: now,
        },
      ]);
      await hold?.();
    });
    await repo.transaction((m) => repo.startWaiting(m, [runId]));
    const run = await repo.findRun(runId);
    if (run?.status !== 'WAITING') throw new Error(`run ${runId} is ${run?.status}, not WAITING`);
    const edges = await repo.edges(runId);
    if (edges.length !== 1) throw new Error(`run ${runId} has ${edges.length} edges`);
    if (!(await repo.transaction((m) => repo.fillEdge(m, runId, 'in')))) {
      throw new Error(`edge of run ${runId} was filled already`);
    }
    const started = await repo.transaction((m) =>
      repo.setStatus(m, runId, ['WAITING'], 'RUNNING', null),
    );
    if (started?.run?.status !== 'RUNNING') throw new Error(`run ${runId} did not start`);
    return runId;
  }

  it('should serve every request of the previous release while the newest migration is applied', async () => {
    const previousReplica = schemaCheck(dataSource, FLOW_SCHEMA, PREVIOUS_RELEASE);
    const newReplica = () => schemaCheck(dataSource, FLOW_SCHEMA, flowMigrations).check();
    await expect(previousReplica.check()).resolves.toBeUndefined();
    await expect(newReplica()).rejects.toThrow(
      `lacks 1 migration(s) of this release (first: ${NEWEST})`,
    );
    expect((await migrationStatus([source(flowMigrations)]))[0].pending).toEqual([NEWEST]);
    const before = await previousReleaseRequest('before');

    // Two replicas serve in a loop; a third request is in flight, its transaction open, when `migrate` starts.
    const served: string[] = [];
    const failures: unknown[] = [];
    let stopped = false;
    // Each its own workflow: the held transaction's row lock on one would hold up the others.
    const replica = async (workflowName: string) => {
      // A failure ends the loop: the test fails on it, and a loop of failing calls would never yield.
      while (!stopped && failures.length === 0) {
        try {
          served.push(await previousReleaseRequest(workflowName));
        } catch (e) {
          failures.push(e);
        }
      }
    };
    const replicas = [replica('replica-a'), replica('replica-b')];
    const held = gate();
    const reachedHold = gate();
    const inFlight = previousReleaseRequest('in-flight', async () => {
      reachedHold.open();
      await held.wait();
    });
    await reachedHold.wait();
    // Until so many are served, or one fails (then the assertion that follows names its error).
    const serve = (what: string, count: number) =>
      waitFor(what, () => served.length >= count || failures.length > 0);
    await serve('requests served before the upgrade', 5);
    expect(failures).toEqual([]);

    const migrating = migrateAll([source(flowMigrations)]);
    // The migration waits for the open transaction's lock on run_edges (the replicas' next writes there
    // queue behind it): it is not applied yet.
    await waitFor('the migration to wait for the request in flight', async () => {
      const rows = await dataSource.query<{ waiting: boolean }[]>(
        `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'migrate' AND state = 'active'`,
      );
      return rows.some((r) => r.waiting);
    });
    await expect(newReplica()).rejects.toThrow(NEWEST);
    await expect(previousReplica.check()).resolves.toBeUndefined();

    held.open();
    expect(await migrating).toEqual([`${FLOW_SCHEMA}: ${NEWEST}`]);
    const servedAtMigration = served.length;
    await serve('requests served after the upgrade', servedAtMigration + 5);
    stopped = true;
    await Promise.all(replicas);
    served.push(await inFlight);

    expect(failures).toEqual([]);
    const [{ count }] = await dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM runs WHERE status = 'RUNNING'`,
    );
    expect(count).toBe(served.length + 1);
    await expect(newReplica()).resolves.toBeUndefined();
    await expect(previousReplica.check()).resolves.toBeUndefined();
    expect(await migrationStatus([source(flowMigrations)])).toEqual([
      { schema: FLOW_SCHEMA, applied: flowMigrations.length, pending: [] },
    ]);
    // The new release's column serves rows the previous release wrote.
    expect(await repo.claimInputKey(before, 'in', `inputs/${before}`)).toBe(`inputs/${before}`);
  });
});
