import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The `http` step's target: holds every request while `holding`, then answers them all. */
export class HoldingReceiver {
  readonly runIds: string[] = [];
  private held: ServerResponse[] = [];
  private holding = true;
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { runId: string };
        this.runIds.push(body.runId);
        if (this.holding) this.held.push(res);
        else this.answer(res);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  release(): void {
    this.holding = false;
    for (const res of this.held.splice(0)) this.answer(res);
  }

  private answer(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
