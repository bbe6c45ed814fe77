/**
 * The LISTEN/NOTIFY channel of every outbox; the payload is the schema whose outbox got rows, so one channel
 * serves every service sharing a database. WARNING: persisted name (the migration's trigger function has it).
 */
export const OUTBOX_NOTIFY_CHANNEL = 'outbox';
