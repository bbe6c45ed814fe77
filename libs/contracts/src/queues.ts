/**
 * BullMQ queue names, job names and payloads.
 *
 * WARNING: persisted names (jobs waiting in Redis carry them). Never rename one: add `name.v2` and migrate.
 */
export const QueueName = {
  TtlExpiry: 'ttl-expiry',
  Runs: 'runs',
  UploadWatch: 'upload-watch',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  ObjectExpire: 'object.expire',
  /** Removes the bytes of a deleted object when the inline removal failed (retried with backoff). */
  ObjectPurge: 'object.purge',
  RunExecute: 'run.execute',
  UploadWatch: 'upload.watch',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** Payload of each job, keyed by job name: a wrong payload does not compile. */
export type JobMap = {
  [JobName.ObjectExpire]: { objectId: string };
  [JobName.ObjectPurge]: { objectId: string };
  [JobName.RunExecute]: { runId: string };
  [JobName.UploadWatch]: { runId: string; edge: string };
};

/** The queue each job runs on. */
export const JobQueue: { [J in JobName]: QueueName } = {
  [JobName.ObjectExpire]: QueueName.TtlExpiry,
  [JobName.ObjectPurge]: QueueName.TtlExpiry,
  [JobName.RunExecute]: QueueName.Runs,
  [JobName.UploadWatch]: QueueName.UploadWatch,
};
