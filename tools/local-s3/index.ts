export { startLocalS3, type LocalS3, type LocalS3Options } from './local-s3';
export type { FaultSpec, InjectedFault, S3Operation } from './faults';
export {
  decodeS3EventKey,
  encodeS3EventKey,
  type S3NotificationEvent,
  type S3NotificationRecord,
} from './events';
