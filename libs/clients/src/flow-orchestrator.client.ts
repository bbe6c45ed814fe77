import {
  FLOW_ORCHESTRATOR_BATCH_OPS as OPS,
  type FlowNameParams,
  type FlowRunView,
  type ResourceDownloadUrlView,
  type ResourceUrlCommand,
  type RunEdgeParams,
  type RunIdParams,
  type RunTriggerCall,
  type RunUploadTarget,
  type ServicePrincipal,
  type StartFlowCommand,
  type TriggerResultView,
  type WorkflowIdParams,
  type WorkflowRef,
} from '@lib/contracts';
import { ServiceClient, type ServiceClientOptions } from '@lib/internal-http';

const runPath = (params: RunIdParams) => `/internal/runs/${encodeURIComponent(params.runId)}`;
const edgePath = (params: RunEdgeParams) =>
  `${runPath(params)}/edges/${encodeURIComponent(params.edge)}`;

/**
 * flow-orchestrator, as the gateway calls it: one method per internal route or batched op, each taking
 * and answering the classes of `@lib/contracts` (flow-orchestrator's controllers validate the same
 * classes), for the org of each call's principal. The org trigger travels batched.
 */
export class FlowOrchestratorClient {
  constructor(private readonly http: ServiceClient) {}

  /** A client over a keep-alive pool to flow-orchestrator at `baseUrl`. */
  static connect(opts: Omit<ServiceClientOptions, 'name'>): FlowOrchestratorClient {
    return new FlowOrchestratorClient(new ServiceClient({ ...opts, name: 'flow-orchestrator' }));
  }

  /** Creates or updates the workflow `name` from the definition (null: the stored one) and starts a run. */
  startFlow(
    principal: ServicePrincipal,
    params: FlowNameParams,
    command: StartFlowCommand,
  ): Promise<FlowRunView> {
    return this.http.call<FlowRunView>(
      'POST',
      `/internal/flows/${encodeURIComponent(params.name)}/runs`,
      { principal, body: { definition: command.definition } },
    );
  }

  runStatus(principal: ServicePrincipal, params: RunIdParams): Promise<FlowRunView> {
    return this.http.call<FlowRunView>('GET', runPath(params), { principal });
  }

  /** The org trigger: a run of the workflow at its starting step with any JSON payload. */
  triggerRun(principal: ServicePrincipal, call: RunTriggerCall): Promise<TriggerResultView> {
    return this.http.batched<TriggerResultView>(OPS.runTrigger, call, principal);
  }

  /** A workflow of the org (404 otherwise). */
  workflow(principal: ServicePrincipal, params: WorkflowIdParams): Promise<WorkflowRef> {
    return this.http.call<WorkflowRef>(
      'GET',
      `/internal/workflows/${encodeURIComponent(params.workflowId)}`,
      { principal },
    );
  }

  /** A workflow of the org by name (404 otherwise). */
  workflowNamed(principal: ServicePrincipal, params: FlowNameParams): Promise<WorkflowRef> {
    return this.http.call<WorkflowRef>(
      'GET',
      `/internal/workflows/by-name/${encodeURIComponent(params.name)}`,
      { principal },
    );
  }

  /** The workflow of a run of the org (404 otherwise). */
  workflowOfRun(principal: ServicePrincipal, params: RunIdParams): Promise<WorkflowRef> {
    return this.http.call<WorkflowRef>('GET', `${runPath(params)}/workflow`, { principal });
  }

  /** Where an upload to a waiting edge goes (404/409 when it cannot go anywhere). */
  uploadTarget(principal: ServicePrincipal, params: RunEdgeParams): Promise<RunUploadTarget> {
    return this.http.call<RunUploadTarget>('GET', edgePath(params), { principal });
  }

  /** The bytes are at the edge's key: fill it and resume the run. */
  completeUpload(principal: ServicePrincipal, params: RunEdgeParams): Promise<FlowRunView> {
    return this.http.call<FlowRunView>('POST', `${edgePath(params)}/complete`, { principal });
  }

  /** A presigned GET of the file at a `workflow://` resource URI. */
  resourceDownloadUrl(
    principal: ServicePrincipal,
    command: ResourceUrlCommand,
  ): Promise<ResourceDownloadUrlView> {
    return this.http.call<ResourceDownloadUrlView>('POST', '/internal/resources/download-url', {
      principal,
      body: { resourceUri: command.resourceUri },
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
