import { parseResourceUri } from './resource-uris';

describe('parseResourceUri', () => {
  const id = '550e8400-e29b-41d4-a716-446655440000';

  it('should parse a well-formed URI', () => {
    expect(parseResourceUri(`workflow://${id}/uploads/customers.csv`)).toEqual({
      ok: true,
      workflowId: id,
      type: 'uploads',
      filename: 'customers.csv',
    });
  });

  it.each([
    ['s3://b/k', "Invalid URI protocol. Expected 'workflow://', got: s3://"],
    ['customers.csv', "Invalid URI protocol. Expected 'workflow://', got: customers.csv"],
    [
      `workflow://${id}/uploads/a/b.csv`,
      `Invalid URI path. Expected format: workflow://{workflowId}/{type}/{filename}, got: workflow://${id}/uploads/a/b.csv`,
    ],
    [
      `workflow://${id}//x.csv`,
      `Invalid URI path. Expected format: workflow://{workflowId}/{type}/{filename}, got: workflow://${id}//x.csv`,
    ],
    [
      `workflow://${id}/outputs/x.csv`,
      "Invalid resource type 'outputs'. Expected 'uploads' or 'artifacts'",
    ],
  ])('should refuse %s with the resource URL contract’s message', (uri, message) => {
    expect(parseResourceUri(uri)).toEqual({ ok: false, message });
  });
});
