import { connect, type Socket } from 'node:net';

/** An HTTP/1.1 answer as read from the wire. */
export interface RawAnswer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** A request head: the request line and header lines, then the blank line. */
export const head = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

/**
 * Opens a connection, lets `send` write to it as it likes (a request, part of one, a trickle), and resolves
 * with the answer once the server closes the connection. The request need never be complete: the server
 * must answer and close on its own.
 */
export function exchange(base: string, send: (socket: Socket) => void): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a write after the server closed: what was read still counts
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`connection closed without an answer: ${raw}`));
      const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [
          l.slice(0, l.indexOf(':')).toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4) });
    });
    socket.once('connect', () => send(socket));
  });
}
