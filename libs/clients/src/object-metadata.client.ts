import {
  OBJECT_METADATA_BATCH_OPS as OPS,
  type FileStreamSource,
  type LatestRunFileQuery,
  type LiveFilesPage,
  type LiveFilesQuery,
  type MetadataKeyParams,
  type MetadataKeysView,
  type MetadataValuesView,
  type ObjectCreateCall,
  type ObjectDownloadUrlCall,
  type ObjectDownloadUrlView,
  type ObjectIdParams,
  type ObjectListParams,
  type ObjectListView,
  type ObjectReadCall,
  type ObjectView,
  type OrgCommitUploadCommand,
  type OrgCopyCommand,
  type OrgCreateFolderCommand,
  type OrgDeleteCommand,
  type OrgDeleteResult,
  type OrgEntryQuery,
  type OrgFileDownloadView,
  type OrgFileQuery,
  type OrgFileUpload,
  type OrgFileView,
  type OrgListingQuery,
  type OrgListingView,
  type OrgMoveCommand,
  type OrgPathResult,
  type OrgQuotaParams,
  type OrgQuotaView,
  type OrgRenameCommand,
  type OrgStatsView,
  type PublicFileCall,
  type RecordedRunFile,
  type RecordRunFileCommand,
  type RunFileRef,
  type ServicePrincipal,
} from '@lib/contracts';
import { DomainException } from '@lib/errors';
import { ServiceClient, type ServiceClientOptions } from '@lib/internal-http';
import type { JsonText } from './json-text';

const objectPath = (params: ObjectIdParams, action: string) =>
  `/internal/objects/${encodeURIComponent(params.id)}/${action}`;

/**
 * object-metadata, as the gateway, the flow-orchestrator and the CLI call it: one method per internal
 * route or batched op, each taking and answering the classes of `@lib/contracts` (object-metadata's
 * controllers validate the same classes). Every call acts for `principal` (signed into its service token),
 * except the public ones. The hot single-object operations travel batched, object pages as unparsed text.
 */
export class ObjectMetadataClient {
  constructor(private readonly http: ServiceClient) {}

  /** A client over a keep-alive pool to object-metadata at `baseUrl`. */
  static connect(opts: Omit<ServiceClientOptions, 'name'>): ObjectMetadataClient {
    return new ObjectMetadataClient(new ServiceClient({ ...opts, name: 'object-metadata' }));
  }

  // Objects API

  createObject(principal: ServicePrincipal, call: ObjectCreateCall): Promise<ObjectView> {
    return this.http.batched<ObjectView>(OPS.objectCreate, call, principal);
  }

  getObject(principal: ServicePrincipal, call: ObjectReadCall): Promise<ObjectView> {
    return this.http.batched<ObjectView>(OPS.objectGet, call, principal);
  }

  objectDownloadUrl(
    principal: ServicePrincipal,
    call: ObjectDownloadUrlCall,
  ): Promise<ObjectDownloadUrlView> {
    return this.http.batched<ObjectDownloadUrlView>(OPS.objectDownloadUrl, call, principal);
  }

  /** A page of the org's objects, as object-metadata's JSON text (the gateway sends it on as it is). */
  listObjects(
    principal: ServicePrincipal,
    query: ObjectListParams,
  ): Promise<JsonText<ObjectListView>> {
    return this.http.callJsonText('/internal/objects', { principal, query: { ...query } });
  }

  /** A page of the objects every org published (acts for no org), as JSON text. */
  listPublicObjects(query: ObjectListParams): Promise<JsonText<ObjectListView>> {
    return this.http.callJsonText('/internal/objects/public', { query: { ...query } });
  }

  metadataKeys(principal: ServicePrincipal): Promise<MetadataKeysView> {
    return this.http.call<MetadataKeysView>('GET', '/internal/objects/metadata/keys', {
      principal,
    });
  }

  metadataValues(
    principal: ServicePrincipal,
    params: MetadataKeyParams,
  ): Promise<MetadataValuesView> {
    return this.http.call<MetadataValuesView>(
      'GET',
      `/internal/objects/metadata/keys/${encodeURIComponent(params.key)}/values`,
      { principal },
    );
  }

  completeObject(principal: ServicePrincipal, params: ObjectIdParams): Promise<ObjectView> {
    return this.http.call<ObjectView>('POST', objectPath(params, 'complete'), { principal });
  }

  deleteObject(principal: ServicePrincipal, params: ObjectIdParams): Promise<ObjectView> {
    return this.http.call<ObjectView>('POST', objectPath(params, 'delete'), { principal });
  }

  publishObject(principal: ServicePrincipal, params: ObjectIdParams): Promise<ObjectView> {
    return this.http.call<ObjectView>('POST', objectPath(params, 'publish'), { principal });
  }

  unpublishObject(principal: ServicePrincipal, params: ObjectIdParams): Promise<ObjectView> {
    return this.http.call<ObjectView>('POST', objectPath(params, 'unpublish'), { principal });
  }

  // Files of every kind, by their public key (act for no org: the key is the capability)

  /** A presigned GET of the live file under `objectKey`, for a redirect. */
  publicFileDownloadUrl(call: PublicFileCall): Promise<{ url: string }> {
    return this.http.batched<{ url: string }>(OPS.fileDownloadUrl, call);
  }

  /** What the gateway needs to stream the live file under `objectKey` itself. */
  publicFileStreamSource(call: PublicFileCall): Promise<FileStreamSource> {
    return this.http.batched<FileStreamSource>(OPS.fileStreamSource, call);
  }

  /** A page of the census of the org's live files (usage truth and rebuild). */
  liveFiles(principal: ServicePrincipal, query: LiveFilesQuery): Promise<LiveFilesPage> {
    return this.http.call<LiveFilesPage>('GET', '/internal/files/live', {
      principal,
      query: { limit: query.limit, cursor: query.cursor },
    });
  }

  // Org storage

  orgListing(principal: ServicePrincipal, query: OrgListingQuery): Promise<OrgListingView> {
    return this.http.call<OrgListingView>('GET', '/internal/org-files/children', {
      principal,
      query: { path: query.path, limit: query.limit, cursor: query.cursor },
    });
  }

  orgFileMeta(principal: ServicePrincipal, query: OrgFileQuery): Promise<OrgFileView> {
    return this.http.call<OrgFileView>('GET', '/internal/org-files/meta', {
      principal,
      query: { path: query.path },
    });
  }

  orgFileDownload(principal: ServicePrincipal, query: OrgFileQuery): Promise<OrgFileDownloadView> {
    return this.http.call<OrgFileDownloadView>('GET', '/internal/org-files/download', {
      principal,
      query: { path: query.path },
    });
  }

  orgStats(principal: ServicePrincipal, query: OrgEntryQuery): Promise<OrgStatsView> {
    return this.http.call<OrgStatsView>('GET', '/internal/org-files/stats', {
      principal,
      query: { path: query.path },
    });
  }

  commitOrgUpload(
    principal: ServicePrincipal,
    command: OrgCommitUploadCommand,
  ): Promise<OrgFileUpload> {
    return this.orgCommand<OrgFileUpload>('uploads', principal, command);
  }

  createOrgFolder(
    principal: ServicePrincipal,
    command: OrgCreateFolderCommand,
  ): Promise<OrgPathResult> {
    return this.orgCommand<OrgPathResult>('folders', principal, command);
  }

  deleteOrgEntry(principal: ServicePrincipal, command: OrgDeleteCommand): Promise<OrgDeleteResult> {
    return this.orgCommand<OrgDeleteResult>('delete', principal, command);
  }

  renameOrgEntry(principal: ServicePrincipal, command: OrgRenameCommand): Promise<OrgPathResult> {
    return this.orgCommand<OrgPathResult>('rename', principal, command);
  }

  moveOrgEntry(principal: ServicePrincipal, command: OrgMoveCommand): Promise<OrgPathResult> {
    return this.orgCommand<OrgPathResult>('move', principal, command);
  }

  copyOrgFile(principal: ServicePrincipal, command: OrgCopyCommand): Promise<OrgPathResult> {
    return this.orgCommand<OrgPathResult>('copy', principal, command);
  }

  private orgCommand<T>(route: string, principal: ServicePrincipal, body: object): Promise<T> {
    return this.http.call<T>('POST', `/internal/org-files/${route}`, { principal, body });
  }

  // Storage quotas

  /** The org's quota and what counts against it. */
  orgQuota(principal: ServicePrincipal): Promise<OrgQuotaView> {
    return this.http.call<OrgQuotaView>('GET', '/internal/quotas', { principal });
  }

  setOrgQuota(principal: ServicePrincipal, params: OrgQuotaParams): Promise<OrgQuotaView> {
    return this.http.call<OrgQuotaView>('PUT', '/internal/quotas', {
      principal,
      body: { maxBytes: params.maxBytes, maxFiles: params.maxFiles },
    });
  }

  // Run files

  /** Records the file once (by key) and publishes its `storage_file.updated`; a repeat is a no-op. */
  recordRunFile(
    principal: ServicePrincipal,
    command: RecordRunFileCommand,
  ): Promise<RecordedRunFile> {
    return this.http.call<RecordedRunFile>('POST', '/internal/run-files', {
      principal,
      body: command,
    });
  }

  /** The newest live file of the org's workflow with this name and direction, or null. */
  async latestRunFile(
    principal: ServicePrincipal,
    query: LatestRunFileQuery,
  ): Promise<RunFileRef | null> {
    try {
      return await this.http.call<RunFileRef>('GET', '/internal/run-files/latest', {
        principal,
        query: {
          workflowId: query.workflowId,
          direction: query.direction,
          filename: query.filename,
        },
      });
    } catch (err) {
      if (err instanceof DomainException && err.status === 404) return null;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
