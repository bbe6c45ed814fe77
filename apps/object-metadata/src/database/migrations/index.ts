import { EVENTS_PUBLISHER_MIGRATIONS } from '@lib/events';
import { CreateObjects1764000000000 } from './1764000000000-create-objects';
import { ObjectsApi1764100000000 } from './1764100000000-objects-api';
import { OrgFiles1765000000000 } from './1765000000000-org-files';
import { CreateRunFiles1766000000100 } from './1766000000100-create-run-files';
import { OrgFolderDeletes1768000000000 } from './1768000000000-org-folder-deletes';
import { OrgFilePurgesOrg1768200000000 } from './1768200000000-org-file-purges-org';
import { OrgQuotas1768300000000 } from './1768300000000-org-quotas';
import { ObjectCounts1768500000000 } from './1768500000000-object-counts';

/** WARNING: persisted name. The Postgres schema object-metadata owns; no other service reads it. */
export const OBJECT_METADATA_SCHEMA = 'object_metadata';

export const objectMetadataMigrations = [
  ...EVENTS_PUBLISHER_MIGRATIONS,
  CreateObjects1764000000000,
  ObjectsApi1764100000000,
  OrgFiles1765000000000,
  CreateRunFiles1766000000100,
  OrgFolderDeletes1768000000000,
  OrgFilePurgesOrg1768200000000,
  OrgQuotas1768300000000,
  ObjectCounts1768500000000,
];
