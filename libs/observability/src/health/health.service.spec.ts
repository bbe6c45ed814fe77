import type { HealthCheck } from './health-check';
import { HealthService, markShuttingDown } from './health.service';

const up = (name: string): HealthCheck => ({ name, check: () => Promise.resolve() });
const failing = (name: string, message: string): HealthCheck => ({
  name,
  check: () => Promise.reject(new Error(message)),
});
// Never settles on its own: only the service's timeout ends it.
const hanging = (name: string, aborted: AbortSignal[] = []): HealthCheck => ({
  name,
  check: (signal) => {
    aborted.push(signal);
    return new Promise<void>(() => undefined);
  },
});

describe(HealthService.name, () => {
  it('should report ok with every check up when all checks pass', async () => {
    const sut = new HealthService([up('postgres'), up('redis')], {});

    const report = await sut.readiness();

    expect(report).toEqual({
      status: 'ok',
      checks: {
        postgres: { status: 'up', latencyMs: expect.any(Number) },
        redis: { status: 'up', latencyMs: expect.any(Number) },
      },
    });
  });

  it('should report error listing the failing and the timed-out checks when some do not pass', async () => {
    const signals: AbortSignal[] = [];
    const sut = new HealthService(
      [up('postgres'), failing('redis', 'ECONNREFUSED 127.0.0.1:6379'), hanging('s3', signals)],
      { timeoutMs: 20 },
    );

    const report = await sut.readiness();

    expect(report.status).toBe('error');
    expect(report.failed).toEqual(['redis', 's3']);
    expect(report.checks).toEqual({
      postgres: { status: 'up', latencyMs: expect.any(Number) },
      redis: {
        status: 'down',
        latencyMs: expect.any(Number),
        error: 'ECONNREFUSED 127.0.0.1:6379',
      },
      s3: { status: 'down', latencyMs: expect.any(Number), error: 'timed out after 20 ms' },
    });
    expect(signals[0].aborted).toBe(true);
  });

  it('should report a check that throws synchronously as down', async () => {
    const sut = new HealthService(
      [
        {
          name: 'broken',
          check: () => {
            throw new Error('not connected');
          },
        },
      ],
      {},
    );

    const report = await sut.readiness();

    expect(report).toMatchObject({
      status: 'error',
      failed: ['broken'],
      checks: { broken: { status: 'down', error: 'not connected' } },
    });
  });

  it('should report ok when there are no checks', async () => {
    await expect(new HealthService([], {}).readiness()).resolves.toEqual({
      status: 'ok',
      checks: {},
    });
  });

  it('should share one run between concurrent callers', async () => {
    let calls = 0;
    const sut = new HealthService(
      [
        {
          name: 'counted',
          check: () => {
            calls++;
            return Promise.resolve();
          },
        },
      ],
      {},
    );

    const [a, b] = await Promise.all([sut.readiness(), sut.readiness()]);
    await sut.readiness();

    expect(a).toBe(b);
    expect(calls).toBe(2);
  });

  it('should report shutting_down without running checks when markShuttingDown was called', async () => {
    let calls = 0;
    const sut = new HealthService(
      [
        {
          name: 'counted',
          check: () => {
            calls++;
            return Promise.resolve();
          },
        },
      ],
      {},
    );
    sut.onModuleInit();

    markShuttingDown();
    const report = await sut.readiness();
    sut.onApplicationShutdown();

    expect(report).toEqual({ status: 'shutting_down', checks: {} });
    expect(calls).toBe(0);
  });

  it('should report shutting_down once the application starts shutting down', async () => {
    const sut = new HealthService([up('postgres')], {});

    sut.beforeApplicationShutdown();

    await expect(sut.readiness()).resolves.toMatchObject({ status: 'shutting_down' });
  });

  it('should not affect a new instance when an earlier one was shut down', async () => {
    const first = new HealthService([], {});
    first.onModuleInit();
    markShuttingDown();
    first.onApplicationShutdown();

    const sut = new HealthService([], {});

    await expect(sut.readiness()).resolves.toMatchObject({ status: 'ok' });
  });

  it('should refuse two checks with the same name', () => {
    expect(() => new HealthService([up('db'), up('db')], {})).toThrow(
      'Duplicate health check name: db',
    );
  });
});
