import fastify from 'fastify';
import { Writable } from 'node:stream';
import { fastifyLoggingOptions } from './fastify-logging';
import { createLogger } from './logger';

describe(fastifyLoggingOptions.name, () => {
  const logger = createLogger({
    service: 'test',
    level: 'warn',
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  const app = fastify(fastifyLoggingOptions(logger));
  let seen: { log: unknown; level: string } | undefined;
  app.get('/plain', (request, reply) => {
    seen = { log: request.log, level: request.log.level };
    void reply.send({});
  });
  app.get('/verbose', { logLevel: 'debug' }, (request, reply) => {
    seen = { log: request.log, level: request.log.level };
    void reply.send({});
  });

  afterAll(() => app.close());

  it('should give a route without a log level of its own the root logger, not a child per request', async () => {
    await app.inject({ method: 'GET', url: '/plain' });
    expect(seen?.log).toBe(app.log);
  });

  it('should give a route with its own log level a child logger at that level', async () => {
    await app.inject({ method: 'GET', url: '/verbose' });
    expect(seen?.log).not.toBe(app.log);
    expect(seen?.level).toBe('debug');
  });
});
