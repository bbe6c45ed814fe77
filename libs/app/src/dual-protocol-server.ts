import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';

/** What every HTTP/2 client sends first on a connection (RFC 9113, section 3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type RequestHandler = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface DualProtocolOptions {
  /** PEM certificate chain and key: with them the port speaks TLS, h2 or HTTP/1.1 chosen by ALPN. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** How often Node checks the HTTP/1.1 headers and request deadlines. */
  connectionsCheckingInterval?: number;
}

/**
 * One listening port that serves HTTP/2 and HTTP/1.1 to the same request handler.
 *
 * Cleartext: the first bytes of each connection decide. The HTTP/2 connection preface (what a client with
 * prior knowledge sends, e.g. Node's `http2.connect('http://…')`) hands the socket to an HTTP/2 server;
 * anything else to an HTTP/1.1 server. TLS: the protocol the client chose by ALPN decides (`h2`, else
 * HTTP/1.1, also for clients that send no ALPN).
 *
 * The HTTP/1.1 deadlines (`headersTimeout`, `requestTimeout`, `keepAliveTimeout`) are set here as on an
 * `http.Server`; an idle HTTP/2 session is closed after `keepAliveTimeout` too. `close()` stops accepting,
 * closes idle HTTP/1.1 connections and sends GOAWAY on every HTTP/2 session: in-flight requests finish,
 * and the callback runs once the last connection has ended.
 */
export class DualProtocolServer extends net.Server {
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private idleSessionMs = 0;

  constructor(handler: RequestHandler, options: DualProtocolOptions = {}) {
    super({ allowHalfOpen: true, noDelay: true });
    this.http1 = http.createServer(
      { connectionsCheckingInterval: options.connectionsCheckingInterval },
      handler as http.RequestListener,
    );
    this.http2 = http2.createServer(
      {},
      handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    // Malformed HTTP/1.1 requests and timeouts are answered by whoever listens on this server (Fastify's
    // clientErrorHandler), as they would be on a plain http.Server.
    this.http1.on('clientError', (error: Error, socket: net.Socket) => {
      if (this.listenerCount('clientError') > 0) this.emit('clientError', error, socket);
      else socket.destroy(error);
    });
    this.http2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // A session without traffic past the keep-alive timeout gets GOAWAY (its open streams may finish).
      if (this.idleSessionMs > 0) session.setTimeout(this.idleSessionMs, () => session.close());
    });
    // The HTTP/1.1 server never listens itself: its deadline checks start with this server.
    this.on('listening', () => this.http1.emit('listening'));

    if (options.tls) {
      const secure = tls.createServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      secure.on('secureConnection', (socket: tls.TLSSocket) => {
        if (socket.alpnProtocol === 'h2') this.http2.emit('connection', socket);
        else this.http1.emit('connection', socket);
      });
      secure.on('tlsClientError', (_error: Error, socket: tls.TLSSocket) => socket.destroy());
      this.on('connection', (socket: net.Socket) => secure.emit('connection', socket));
    } else {
      this.on('connection', (socket: net.Socket) => this.route(socket));
    }
  }

  get headersTimeout(): number {
    return this.http1.headersTimeout;
  }
  set headersTimeout(ms: number) {
    this.http1.headersTimeout = ms;
  }

  get requestTimeout(): number {
    return this.http1.requestTimeout;
  }
  set requestTimeout(ms: number) {
    this.http1.requestTimeout = ms;
  }

  get keepAliveTimeout(): number {
    return this.http1.keepAliveTimeout;
  }
  set keepAliveTimeout(ms: number) {
    this.http1.keepAliveTimeout = ms;
    this.idleSessionMs = ms;
  }

  /** Fastify calls this on close (with `forceCloseConnections: 'idle'`); HTTP/2 sessions get GOAWAY. */
  closeIdleConnections(): void {
    this.http1.closeIdleConnections();
    this.closeHttp2Sessions();
  }

  /** Fastify calls this on close: GOAWAY on each session, which ends once its open streams have. */
  closeHttp2Sessions(): void {
    for (const session of this.sessions) session.close();
  }

  override close(callback?: (err?: Error) => void): this {
    super.close(callback);
    // Stops the HTTP/1.1 deadline checks and closes idle keep-alive connections; busy ones close after
    // their response (the server is no longer listening, so Node answers with `Connection: close`).
    this.http1.close(() => undefined);
    this.closeHttp2Sessions();
    return this;
  }

  /**
   * Reads until the bytes match the HTTP/2 preface or differ from it, then hands the socket over. A
   * connection that has not shown its protocol by the HTTP/1.1 headers deadline is closed, as one that has
   * not sent its headers would be: silent connections cannot pile up.
   */
  private route(socket: net.Socket): void {
    let received = Buffer.alloc(0);
    const deadline =
      this.http1.headersTimeout > 0
        ? setTimeout(() => socket.destroy(), this.http1.headersTimeout)
        : undefined;
    socket.once('close', () => clearTimeout(deadline));
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null)
        received = Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, HTTP2_PREFACE.length);
      const matches = received.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (matches && received.length < HTTP2_PREFACE.length) return; // wait for more bytes
      clearTimeout(deadline);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.unshift(received);
      (matches ? this.http2 : this.http1).emit('connection', socket);
    };
    const onEnd = (): void => {
      socket.destroy();
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.on('error', () => socket.destroy());
  }
}
