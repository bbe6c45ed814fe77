import { DomainException } from '@lib/errors';
import { ServiceClient } from '@lib/internal-http';
import type { RecordRunFileCommand } from '@lib/contracts';

/** object-metadata's run-file records, over its keep-alive pool. */
export class RunFilesClient {
  constructor(private readonly metadata: ServiceClient) {}

  /** Records the file once (by key) and publishes its `storage_file.updated`; a repeat is a no-op. */
  async record(file: RecordRunFileCommand): Promise<void> {
    await this.metadata.call('POST', '/internal/run-files', { body: file });
  }

  /** The newest live file of a workflow with this name and direction, or null. */
  async latest(
    orgId: string,
    workflowId: string,
    direction: 'input' | 'output',
    filename: string,
  ): Promise<{ objectKey: string; filename: string } | null> {
    try {
      return await this.metadata.call('GET', '/internal/run-files/latest', {
        query: { orgId, workflowId, direction, filename },
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
