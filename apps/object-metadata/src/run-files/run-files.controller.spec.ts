import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { orgFileKey, runFileKey, type ServicePrincipal } from '@lib/contracts';
import { type ControllerApp, startControllerApp } from '@lib/testing';
import { RunFilesController } from './run-files.controller';
import { RunFilesService } from './run-files.service';

const principal: ServicePrincipal = {
  orgId: randomUUID(),
  orgKey: 'acme',
  userId: null,
  role: null,
  actor: { type: 'system', id: 'flow-orchestrator' },
  workflowId: null,
};

// Recording a run's files over HTTP, in process: the callers allowed per route, and only run-file keys of
// the principal's org.
describe(RunFilesController.name, () => {
  let sut: ControllerApp;
  const files = { record: jest.fn(), latest: jest.fn() };
  const record = (
    objectKey: string,
    caller: 'flow-orchestrator' | 'storage' = 'flow-orchestrator',
  ) =>
    request(sut.app.getHttpServer())
      .post('/internal/run-files')
      .set('authorization', sut.bearer(caller, principal))
      .send({
        workflowId: 'wf_1',
        runId: 'run_1',
        edge: 'in',
        direction: 'input',
        objectKey,
        filename: 'in.txt',
        sizeBytes: 3,
      });

  beforeAll(async () => {
    sut = await startControllerApp('object-metadata', {
      controllers: [RunFilesController],
      providers: [{ provide: RunFilesService, useValue: files }],
    });
  });

  afterAll(() => sut?.app.close());
  afterEach(() => Object.values(files).forEach((fn) => fn.mockReset()));

  it('should record a run file of the org for the flow-orchestrator', async () => {
    const key = runFileKey('acme', 'wf_1', 'run_1', 'inputs', 'in.txt');
    files.record.mockResolvedValue({ objectId: 'obj_1', created: true });
    const res = await record(key);
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 200,
      body: { objectId: 'obj_1', created: true },
    });
    expect(files.record.mock.calls).toEqual([
      [expect.objectContaining({ objectKey: key }), principal],
    ]);
  });

  it('should answer 400 to a key of another org or of another kind, 403 to storage', async () => {
    for (const key of [
      runFileKey('other', 'wf_1', 'run_1', 'inputs', 'in.txt'),
      orgFileKey('acme'),
    ]) {
      const res = await record(key);
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
    }
    const storage = await record(
      runFileKey('acme', 'wf_1', 'run_1', 'inputs', 'in.txt'),
      'storage',
    );
    expect(storage.status).toBe(403);
    expect(files.record).not.toHaveBeenCalled();
  });

  it('should let only the flow-orchestrator read the latest file', async () => {
    const res = await request(sut.app.getHttpServer())
      .get('/internal/run-files/latest?workflowId=wf_1&direction=output&filename=a.txt')
      .set('authorization', sut.bearer('storage', principal));
    expect(res.status).toBe(403);
    expect(files.latest).not.toHaveBeenCalled();
  });
});
