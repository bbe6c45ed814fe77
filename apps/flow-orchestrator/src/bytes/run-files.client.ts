import { DomainException } from '@lib/errors';
import { ServiceClient } from '@lib/internal-http';
import type { EventActor, RecordRunFileCommand, ServicePrincipal } from '@lib/contracts';

/**
 * The principal of a call made for a run: the run's org, the user its files count for (null: none), and
 * who acts (the uploader, or the platform).
 */
export function principalOfRun(
  run: { orgId: string; orgKey: string },
  actor: EventActor,
  userId: string | null,
): ServicePrincipal {
  return { orgId: run.orgId, orgKey: run.orgKey, userId, role: null, actor, workflowId: null };
}

/** object-metadata's run-file records, over its keep-alive pool, for the org of each call's principal. */
export class RunFilesClient {
  constructor(private readonly metadata: ServiceClient) {}

  /** Records the file once (by key) and publishes its `storage_file.updated`; a repeat is a no-op. */
  async record(principal: ServicePrincipal, file: RecordRunFileCommand): Promise<void> {
    await this.metadata.call('POST', '/internal/run-files', { principal, body: file });
  }

  /** The newest live file of the org's workflow with this name and direction, or null. */
  async latest(
    principal: ServicePrincipal,
    workflowId: string,
    direction: 'input' | 'output',
    filename: string,
  ): Promise<{ objectKey: string; filename: string } | null> {
    try {
      return await this.metadata.call('GET', '/internal/run-files/latest', {
        principal,
        query: { workflowId, direction, filename },
      });
    } catch (err) {
      if (err instanceof DomainException && err.status === 404) return null;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.metadata.close();
  }
}
