// Examples of the flows operations' answers in the OpenAPI document (`/docs-json`).

const WORKFLOW_ID = '550e8400-e29b-41d4-a716-446655440000';
const RUN_ID = '0196f3c2-a1b0-7c4d-9e8f-0a1b2c3d4e5f';

/** A flow definition: one upload, archived. */
export const FLOW_DEFINITION_EXAMPLE = {
  Flow: {
    DataWells: [{ Edge: 'customers', Store: 's3-bucket', Source: 'upload', Key: 'customers.csv' }],
    Steps: [
      {
        ID: 'pack',
        Type: 'archive',
        Inputs: ['customers'],
        Output: 'packed',
        Config: { Format: 'tgz' },
      },
    ],
    StartingStepID: 'pack',
  },
};

/** A run waiting for its upload. */
export const FLOW_RUN_EXAMPLE = {
  ID: RUN_ID,
  Status: 'WAITING',
  WaitingURLs: [
    {
      Artifact: { StoreName: 's3-bucket', ObjectName: 'customers.csv', EdgeName: 'customers' },
      PutURL: `https://uploads.example.com/runs/${RUN_ID}/customers?X-Amz-Signature=…`,
      TTL: '2026-01-05T10:30:00Z',
    },
  ],
  WorkflowID: WORKFLOW_ID,
  WorkflowName: 'customer-cleanup',
  CurrentStep: null,
  CreatedAt: '2026-01-05T09:30:00.000Z',
  UpdatedAt: '2026-01-05T09:30:00.000Z',
};

/** The same run once its upload arrived. */
export const FLOW_RUN_RUNNING_EXAMPLE = {
  ID: RUN_ID,
  Status: 'RUNNING',
  WorkflowID: WORKFLOW_ID,
  WorkflowName: 'customer-cleanup',
  CurrentStep: 'pack',
  Inputs: [
    {
      Edge: 'customers',
      Name: 'customers.csv',
      URI: `workflow://${WORKFLOW_ID}/uploads/customers.csv`,
      ObjectKey: 'acme/runs/3c9d2e1f0a4b5c6d',
      SizeBytes: 5120,
    },
  ],
  CreatedAt: '2026-01-05T09:30:00.000Z',
  UpdatedAt: '2026-01-05T09:31:00.000Z',
};

export const TRIGGER_PAYLOAD_EXAMPLE = { customerId: 'c-42', reason: 'nightly' };

export const TRIGGER_RESULT_EXAMPLE = {
  success: true,
  data: { runId: RUN_ID, result: { jobId: RUN_ID, queue: 'flow-runs', state: 'waiting' } },
};

export const RESOURCE_DOWNLOAD_URL_EXAMPLE = {
  download_url: 'https://objects.example.com/acme/runs/3c9d2e1f0a4b5c6d?X-Amz-Signature=…',
  download_expires_at: '2026-01-05T10:30:00.000Z',
  resource_uri: `workflow://${WORKFLOW_ID}/uploads/customers.csv`,
  filename: 'customers.csv',
  tool_trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  workflow_id: WORKFLOW_ID,
};

export const WORKFLOW_UPLOAD_EXAMPLE = {
  objectKey: 'acme/workflows/7d1e9c3b2a5f4e60',
  uri: `workflow://${WORKFLOW_ID}/uploads/customers.csv`,
  workflowId: WORKFLOW_ID,
  filename: 'customers.csv',
  sizeBytes: 5120,
  contentType: 'text/csv',
};
