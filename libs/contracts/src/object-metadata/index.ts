// What object-metadata's internal routes and batched calls take and answer (`ObjectMetadataClient` of
// @lib/clients sends them, its controllers validate them). The Objects API's own params and views are
// ../objects.ts, storage quotas ../storage-quotas.ts.
export * from './batch';
export * from './files';
export * from './org-files';
export * from './run-files';
