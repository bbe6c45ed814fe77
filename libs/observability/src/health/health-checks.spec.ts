import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { kafkaCheck, postgresCheck, redisCheck } from './health-checks';

const signal = new AbortController().signal;

describe(postgresCheck.name, () => {
  it('should run SELECT 1 when checked', async () => {
    const query = jest.fn<Promise<unknown>, [string]>().mockResolvedValue([{ '?column?': 1 }]);

    await postgresCheck({ query }).check(signal);

    expect(query).toHaveBeenCalledWith('SELECT 1');
  });

  it('should fail when the query fails', async () => {
    const sut = postgresCheck({ query: () => Promise.reject(new Error('too many clients')) });

    await expect(sut.check(signal)).rejects.toThrow('too many clients');
  });
});

describe(redisCheck.name, () => {
  it('should pass when PING answers PONG', async () => {
    await expect(redisCheck({ ping: () => Promise.resolve('PONG') }).check(signal)).resolves.toBe(
      undefined,
    );
  });

  it('should fail when PING answers something else', async () => {
    await expect(
      redisCheck({ ping: () => Promise.resolve('LOADING') }).check(signal),
    ).rejects.toThrow('unexpected PING reply: LOADING');
  });
});

/** A TCP server answering every request with `reply`, or holding the connection when null. */
async function fakeBroker(reply: Buffer | null): Promise<{ address: string; server: Server }> {
  const server = createServer((socket) => {
    socket.on('data', (request: Buffer) => {
      if (reply === null) return;
      // Echo the request's correlation id (bytes 8-11: after size, api_key and api_version).
      const response = Buffer.from(reply);
      request.copy(response, 4, 8, 12);
      socket.end(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function apiVersionsResponse(errorCode: number): Buffer {
  const response = Buffer.alloc(10);
  response.writeInt32BE(6, 0);
  response.writeInt16BE(errorCode, 8);
  return response;
}

describe(kafkaCheck.name, () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('should pass when one broker answers ApiVersions even if another refuses connections', async () => {
    const good = await fakeBroker(apiVersionsResponse(0));
    servers.push(good.server);

    const sut = kafkaCheck({ brokers: ['127.0.0.1:1', good.address] });

    await expect(sut.check(signal)).resolves.toBeUndefined();
  });

  it('should fail naming every broker when none answers', async () => {
    const sut = kafkaCheck({ brokers: ['127.0.0.1:1', '127.0.0.1:2'] });

    await expect(sut.check(signal)).rejects.toThrow(
      /no Kafka broker answered: 127\.0\.0\.1:1: .*; 127\.0\.0\.1:2: /,
    );
  });

  it('should fail when the broker answers with an error code', async () => {
    const broker = await fakeBroker(apiVersionsResponse(35));
    servers.push(broker.server);

    await expect(kafkaCheck({ brokers: [broker.address] }).check(signal)).rejects.toThrow(
      'ApiVersions error 35',
    );
  });

  it('should stop waiting when the signal aborts', async () => {
    const silent = await fakeBroker(null);
    servers.push(silent.server);
    const controller = new AbortController();

    const pending = kafkaCheck({ brokers: [silent.address] }).check(controller.signal);
    controller.abort(new Error('timed out'));

    await expect(pending).rejects.toThrow('aborted');
  });

  it('should fail when no broker is configured', async () => {
    await expect(kafkaCheck({ brokers: [] }).check(signal)).rejects.toThrow(
      'no Kafka brokers configured',
    );
  });
});
