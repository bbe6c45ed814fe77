// Resource URIs (`workflow://…`) of run files, and the resource URL answer.

/** The resource URL `generate_download_url` answer. */
export interface ResourceDownloadUrlView {
  download_url: string;
  download_expires_at: string;
  resource_uri: string;
  filename: string;
  tool_trace_id: string;
  workflow_id: string;
}

export const RESOURCE_TYPES = ['uploads', 'artifacts'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** `workflow://{workflowId}/{uploads|artifacts}/{filename}`. */
export function workflowResourceUri(
  workflowId: string,
  type: ResourceType,
  filename: string,
): string {
  return `workflow://${workflowId}/${type}/${filename}`;
}

export type ParsedResourceUri =
  | { ok: true; workflowId: string; type: ResourceType; filename: string }
  | { ok: false; message: string };

/** Parses a resource URI; the error messages are the resource URL contract's, verbatim. */
export function parseResourceUri(uri: string): ParsedResourceUri {
  const scheme = 'workflow://';
  if (!uri.startsWith(scheme)) {
    const got = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri)?.[0] ?? uri;
    return { ok: false, message: `Invalid URI protocol. Expected 'workflow://', got: ${got}` };
  }
  const parts = uri.slice(scheme.length).split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    return {
      ok: false,
      message: `Invalid URI path. Expected format: workflow://{workflowId}/{type}/{filename}, got: ${uri}`,
    };
  }
  const [workflowId, type, filename] = parts;
  if (!(RESOURCE_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      message: `Invalid resource type '${type}'. Expected 'uploads' or 'artifacts'`,
    };
  }
  return { ok: true, workflowId, type: type as ResourceType, filename };
}
