import { Writable } from 'node:stream';
import { createLogger, type Logger } from './logger';
import { PinoLoggerService } from './pino-logger.service';

function capture(level = 'trace'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ service: 'svc', level, destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const STACK = 'Error: boom\n    at Object.<anonymous> (/app/x.ts:1:2)';

describe(PinoLoggerService.name, () => {
  it('should write a JSON line with level label, service and context when called as (message, context)', () => {
    const { logger, lines } = capture();
    const sut = new PinoLoggerService(logger);

    sut.log('Nest application successfully started', 'NestApplication');

    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'svc',
        msg: 'Nest application successfully started',
        context: 'NestApplication',
      }),
    ]);
    expect(typeof lines()[0].time).toBe('number');
  });

  it('should log the message alone when called with no context', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).warn('careful');

    expect(lines()[0]).toMatchObject({ level: 'warn', severity: 'WARNING', msg: 'careful' });
    expect(lines()[0]).not.toHaveProperty('context');
  });

  it('should map debug, verbose and fatal to pino levels', () => {
    const { logger, lines } = capture();
    const sut = new PinoLoggerService(logger);

    sut.debug('d', 'Ctx');
    sut.verbose('v', 'Ctx');
    sut.fatal('f', 'Ctx');

    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      ['debug', 'd'],
      ['trace', 'v'],
      ['fatal', 'f'],
    ]);
  });

  it('should split stack and context when error is called as (message, stack, context)', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).error('boom', STACK, 'ExceptionsHandler');

    expect(lines()[0]).toMatchObject({
      level: 'error',
      msg: 'boom',
      stack: STACK,
      context: 'ExceptionsHandler',
    });
  });

  it('should read a stack-shaped second argument as the stack when error is called as (message, stack)', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).error('boom', STACK);

    expect(lines()[0]).toMatchObject({ msg: 'boom', stack: STACK });
    expect(lines()[0]).not.toHaveProperty('context');
  });

  it('should read a plain second argument as the context when error is called as (message, context)', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).error('boom', 'Ctx');

    expect(lines()[0]).toMatchObject({ msg: 'boom', context: 'Ctx' });
    expect(lines()[0]).not.toHaveProperty('stack');
  });

  it("should serialize an Error under err when called like Nest's exception handler (err, undefined, context)", () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).error(new TypeError('bad thing'), undefined, 'ExceptionsHandler');

    const [line] = lines();
    expect(line).toMatchObject({
      msg: 'bad thing',
      context: 'ExceptionsHandler',
      err: expect.objectContaining({ type: 'TypeError', message: 'bad thing' }),
    });
    expect((line.err as { stack: string }).stack).toContain('TypeError: bad thing');
  });

  it('should merge an object message into the line and keep a following sentence as msg', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).error(
      { requestId: 'r-1', url: '/x' },
      'request failed with an unexpected error',
      'HttpErrorFilter',
    );

    expect(lines()[0]).toMatchObject({
      requestId: 'r-1',
      url: '/x',
      msg: 'request failed with an unexpected error',
      context: 'HttpErrorFilter',
    });
    expect(lines()[0]).not.toHaveProperty('stack');
  });

  it('should merge an object message when called as (object, context)', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).log({ topic: 'run.created', lag: 3 }, 'Consumer');

    expect(lines()[0]).toMatchObject({ topic: 'run.created', lag: 3, context: 'Consumer' });
  });

  it('should keep extra messages when called with several before the context', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).log('first', 42, 'Ctx');

    expect(lines()[0]).toMatchObject({ msg: 'first', extra: [42], context: 'Ctx' });
  });

  it('should write nothing when the level is disabled', () => {
    const { logger, lines } = capture('info');
    new PinoLoggerService(logger).debug('hidden', 'Ctx');

    expect(lines()).toEqual([]);
  });

  it('should redact credentials and secrets when they are logged', () => {
    const { logger, lines } = capture();
    new PinoLoggerService(logger).log(
      {
        headers: { authorization: 'Bearer x', 'api-key': 'k', cookie: 'c', accept: '*/*' },
        password: 'p',
        db: { secret: 's', host: 'h' },
      },
      'Ctx',
    );

    expect(lines()[0]).toMatchObject({
      headers: {
        authorization: '[REDACTED]',
        'api-key': '[REDACTED]',
        cookie: '[REDACTED]',
        accept: '*/*',
      },
      password: '[REDACTED]',
      db: { secret: '[REDACTED]', host: 'h' },
    });
  });
});
