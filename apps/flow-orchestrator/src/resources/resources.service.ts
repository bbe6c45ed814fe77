import { Injectable, Logger } from '@nestjs/common';
import { isUUID } from 'class-validator';
import {
  FLOW_LIMITS,
  parseResourceUri,
  ResourceDownloadUrlView,
  type ServicePrincipal,
} from '@lib/contracts';
import { ObjectMetadataClient } from '@lib/clients';
import { DomainException } from '@lib/errors';
import { currentTraceId } from '@lib/observability';
import { presignedUrlExpiry } from '@lib/s3';
import { RunBytes } from '../bytes/run-bytes';
import { RunsRepository } from '../runs/runs.repository';

// The resource URL contract's messages, verbatim.
const notFound = (uri: string) =>
  new DomainException(
    404,
    'RESOURCE_NOT_FOUND',
    `No resource at ${uri}. The artifact does not exist or has expired. Retrying with the same URI will not succeed.`,
  );
const accessDenied = (uri: string) =>
  new DomainException(
    403,
    'ACCESS_DENIED',
    `Access denied to ${uri}. Check that the workflow_id matches the requesting session.`,
  );
const transient = () =>
  new DomainException(
    503,
    'DOWNLOAD_URL_FAILED',
    'Failed to generate download URL. Please try again.',
  );

/**
 * The resource URL contract's `generate_download_url`:
 * `workflow://{workflowId}/{uploads|artifacts}/{filename}` → a presigned GET valid one hour. `uploads` are the workflow's runs' inputs, `artifacts` their outputs, newest first;
 * the file must be recorded (object-metadata) and its bytes in S3. For artifacts, the run state recorded
 * here is the fallback when object-metadata knows no live file of that name.
 */
@Injectable()
export class ResourcesService {
  private readonly logger = new Logger(ResourcesService.name);

  constructor(
    private readonly repo: RunsRepository,
    private readonly metadata: ObjectMetadataClient,
    private readonly bytes: RunBytes,
  ) {}

  /** For `principal`: its org's file, and only of the workflow its token is scoped to, if it is. */
  async downloadUrl(principal: ServicePrincipal, uri: string): Promise<ResourceDownloadUrlView> {
    const parsed = parseResourceUri(uri);
    if (!parsed.ok) throw new DomainException(400, 'INVALID_RESOURCE_URI', parsed.message);
    const { workflowId, type, filename } = parsed;
    if (principal.workflowId !== null && principal.workflowId !== workflowId) {
      throw accessDenied(uri);
    }
    if (!isUUID(workflowId)) throw notFound(uri);
    let objectKey: string | null = null;
    try {
      const workflow = await this.repo.findWorkflow(principal.orgId, workflowId);
      if (!workflow) throw notFound(uri); // another org's workflow: not found, never "denied"
      const direction = type === 'uploads' ? 'input' : 'output';
      const recorded = await this.metadata.latestRunFile(principal, {
        workflowId,
        direction,
        filename,
      });
      if (recorded && (await this.bytes.head(recorded.objectKey))) objectKey = recorded.objectKey;
      if (!objectKey && type === 'artifacts') {
        const fromState = await this.repo.latestRunFile(workflowId, 'output', filename);
        if (fromState && (await this.bytes.head(fromState.objectKey))) {
          objectKey = fromState.objectKey;
        }
      }
    } catch (err) {
      if (
        err instanceof DomainException &&
        err.status === 404 &&
        err.code === 'RESOURCE_NOT_FOUND'
      ) {
        throw err;
      }
      this.logger.warn(`download URL for ${uri} failed: ${String(err)}`);
      throw transient();
    }
    if (!objectKey) throw notFound(uri);
    const url = this.bytes.getUrl(objectKey, FLOW_LIMITS.downloadUrlSeconds, filename);
    return {
      download_url: url,
      // The URL's own expiry: with a role's credentials it may come before the hour asked for.
      download_expires_at: presignedUrlExpiry(url)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      resource_uri: uri,
      filename,
      tool_trace_id: currentTraceId() ?? '',
      workflow_id: workflowId,
    };
  }
}
