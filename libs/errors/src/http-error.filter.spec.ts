import type { Socket } from 'node:net';
import { HttpErrorFilter } from './http-error.filter';

/** A socket double that records what is written and whether it was closed. */
function fakeSocket() {
  const written: string[] = [];
  const socket = {
    destroyed: false,
    writable: true,
    write: jest.fn((chunk: string) => written.push(chunk)),
    destroy: jest.fn(() => {
      socket.destroyed = true;
    }),
  };
  return { socket, written };
}

const parse = (raw: string) => {
  const [head, body] = raw.split('\r\n\r\n');
  return { statusLine: head.split('\r\n')[0], head, body: JSON.parse(body) as unknown };
};

describe('HttpErrorFilter.clientError', () => {
  const filter = new HttpErrorFilter([
    {
      prefix: '/api/private/',
      envelope: (e) => ({ success: false, error: { code: e.code, message: e.message } }),
    },
  ]);

  it('should answer an oversized request head with a JSON 431 and close the connection', () => {
    const { socket, written } = fakeSocket();
    const err = Object.assign(new Error('Header overflow'), {
      code: 'HPE_HEADER_OVERFLOW',
      rawPacket: Buffer.from(`GET /v1/objects?name=${'a'.repeat(100)} HTTP/1.1\r\n`),
    });
    filter.clientError(err, socket as unknown as Socket);
    const res = parse(written.join(''));
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(res.head).toContain('Content-Type: application/json');
    expect(res.body).toEqual({
      error: {
        code: 'HEADERS_TOO_LARGE',
        message: 'request line and headers exceed the size limit',
      },
    });
    expect(socket.destroy).toHaveBeenCalled();
  });

  it('should use the envelope of the path the request line names', () => {
    const { socket, written } = fakeSocket();
    const err = Object.assign(new Error('Parse Error'), {
      code: 'HPE_INVALID_HEADER_TOKEN',
      rawPacket: Buffer.from('POST /api/private/storage/folder HTTP/1.1\r\nbad header\r\n'),
    });
    filter.clientError(err, socket as unknown as Socket);
    const res = parse(written.join(''));
    expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(res.body).toEqual({
      success: false,
      error: { code: 'VALIDATION_FAILED', message: 'malformed HTTP request' },
    });
  });

  it('should write nothing to a connection the client already reset', () => {
    const { socket } = fakeSocket();
    filter.clientError(
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      socket as unknown as Socket,
    );
    expect(socket.write).not.toHaveBeenCalled();
  });
});
