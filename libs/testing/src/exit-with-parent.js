// Preloaded (`--require`) into the app processes a test or local platform starts, which give each an IPC
// channel: when the platform's process goes away without stopping them (a test runner that crashed or was
// killed), the channel closes and the app shuts down as on SIGTERM, instead of living on and taking CPU and
// ports from the next run. The channel itself keeps neither process alive.
'use strict';

if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
