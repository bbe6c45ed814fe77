import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer on loopback, as a Kubernetes Service is to its pods: each new connection goes to the
 * next backend in turn, and bytes are piped both ways untouched (keep-alive connections stay on their
 * backend). `remove` is the endpoint leaving the Service (a pod terminating or failing readiness): new
 * connections stop going there, open ones run on until either side closes them.
 */
export class RoundRobin {
  private readonly backends: number[] = [];
  private readonly sockets = new Set<Socket>();
  private next = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<RoundRobin> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    const balancer = new RoundRobin(server, port);
    server.on('connection', (client) => balancer.route(client));
    return balancer;
  }

  add(port: number): void {
    if (!this.backends.includes(port)) this.backends.push(port);
  }

  remove(port: number): void {
    const i = this.backends.indexOf(port);
    if (i >= 0) this.backends.splice(i, 1);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private route(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.backends.length === 0) return void client.destroy();
    const port = this.backends[this.next++ % this.backends.length];
    const backend = createConnection({ host: '127.0.0.1', port });
    this.sockets.add(backend);
    backend.once('close', () => {
      this.sockets.delete(backend);
      client.destroy();
    });
    backend.on('error', () => backend.destroy());
    client.once('close', () => backend.destroy());
    client.pipe(backend);
    backend.pipe(client);
  }
}
