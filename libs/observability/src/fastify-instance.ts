import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** The app's Fastify instance; anything else fails the boot, since every app runs on Fastify. */
export function fastifyInstanceOf(adapterHost: HttpAdapterHost, owner: string): FastifyInstance {
  const instance: unknown = adapterHost.httpAdapter?.getInstance();
  if (!isFastify(instance)) {
    throw new Error(`${owner} needs the Fastify HTTP adapter (@nestjs/platform-fastify)`);
  }
  return instance;
}

function isFastify(instance: unknown): instance is FastifyInstance {
  const candidate = instance as Partial<FastifyInstance> | null | undefined;
  return typeof candidate?.addHook === 'function' && typeof candidate.route === 'function';
}
