import { Injectable } from '@nestjs/common';
import type { Principal } from '@lib/auth';
import { ObjectMetadataClient } from '@lib/clients';
import {
  checkOrgName,
  checkOrgPath,
  ORG_STORAGE_LIMITS,
  orgFileKey,
  type OrgFileUpload,
} from '@lib/contracts';
import { servicePrincipalOf } from '../services/service-principal';
import { MultipartRequest, StreamingUploads } from '../uploads/streaming-uploads.service';

/**
 * Org storage upload (multipart `file`, optional text field `path`: the folder): streams the bytes to S3
 * under a fresh `orgFileKey`, then records them with object-metadata (which creates missing folders and
 * honours `If-Match`). The file name, and a `path` sent before the file, are checked before any byte is
 * stored; a `path` sent after the file is checked once the bytes are stored. A refused record (a late bad
 * `path`, 404, 409, 412, quota) removes the bytes again.
 */
@Injectable()
export class OrgFileUploads {
  constructor(
    private readonly metadata: ObjectMetadataClient,
    private readonly uploads: StreamingUploads,
  ) {}

  async upload(p: Principal, request: MultipartRequest, ifMatch?: string): Promise<OrgFileUpload> {
    const principal = servicePrincipalOf(p);
    let folder: string | undefined;
    const up = await this.uploads.receiveMultipart(request, principal, {
      maxBytes: ORG_STORAGE_LIMITS.uploadBytes,
      fields: ['path'],
      keyFor: ({ filename, fieldsBefore }) => {
        checkOrgName(filename, 'file');
        if (fieldsBefore.path !== undefined) folder = checkOrgPath(fieldsBefore.path, 'path').path;
        return orgFileKey(p.orgKey);
      },
    });
    try {
      folder ??= checkOrgPath(up.fields.path, 'path').path;
      return await this.metadata.commitOrgUpload(principal, {
        ifMatch,
        path: folder,
        name: up.filename,
        objectKey: up.key,
        sizeBytes: up.sizeBytes,
        s3Etag: up.etag,
        contentType: up.contentType || null,
      });
    } catch (err) {
      await this.uploads.discardUnlessRecorded(up.key, err);
      throw err;
    }
  }
}
