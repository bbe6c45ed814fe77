// CPU profiles of the apps during a benchmark, on demand:
//   BENCH_APP_NODE_OPTIONS="--require ./bench/lib/cpu-profile-on-signal.js" npm run bench:objects
// then `pkill -USR2 -f dist/apps/` starts profiling every app and a second SIGUSR2 writes
// `.local/profiles/<app>-<pid>.cpuprofile` (open in Chrome DevTools). The benches print `measuring …` on
// stderr before each scenario, so the signals can bracket the one of interest. A profile still running when
// the app exits (the bench stopped the platform first) is written then.
'use strict';
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
let profiling = false;

function stopAndWrite() {
  profiling = false;
  // The main thread's own session answers synchronously, so this also works in an 'exit' listener.
  session.post('Profiler.stop', (err, result) => {
    if (err) return;
    // argv[1] is dist/apps/<app>/src/main.js; process.title is only the node binary's path.
    const app = process.argv[1].split('/').slice(-3)[0];
    const dir = join(process.cwd(), '.local', 'profiles');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${app}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
}

process.on('SIGUSR2', () => {
  if (profiling) return stopAndWrite();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  profiling = true;
});
process.on('exit', () => {
  if (profiling) stopAndWrite();
});
