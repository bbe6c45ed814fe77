import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { watchServingProcesses } from './process-memory';

const SERVER = `
const answer = JSON.parse(process.argv[1]);
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(answer.status, answer.headers); res.end(answer.body); });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

/**
 * The same-run baseline of HTTP benchmarks: a bare Node server in a process of its own (as each app is),
 * on loopback, answering every request with a constant response (e.g. a 302 to a fixed URL, or a small
 * JSON body). What a route costs beyond this is the platform's own work.
 */
export async function startBaselineServer(answer: {
  status: number;
  headers: Record<string, string>;
  body?: string;
}): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', SERVER, JSON.stringify(answer)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${line.toString().trim()}`;
  watchServingProcesses(url, [child.pid!]);
  return {
    url,
    close: async () => {
      child.stdin.end(); // the server exits when its stdin closes
      await once(child, 'exit');
    },
  };
}
