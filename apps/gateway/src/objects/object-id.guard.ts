import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { OBJECT_ID_PATTERN } from '@lib/contracts';
import { DomainException } from '@lib/errors';

/** Longest part of a malformed id a 404 message repeats (the router takes path parameters up to 2 KiB). */
const SHOWN_ID_CHARACTERS = 64;

/**
 * The `{id}` of the per-object operations. The Objects API documents 404 for an id that names no object of
 * the caller's org and no 400 for it: an id of any other format cannot name one, so it answers the same 404
 * as an unknown or foreign id (code `OBJECT_NOT_FOUND`), before any call, query or SQL sees it. Only
 * well-formed ids (`OBJECT_ID_PATTERN`) go on to object-metadata, which checks them again.
 *
 * A guard, not a pipe: it runs after authentication (401, 403) and before every pipe, so the answer does not
 * depend on which of the request's other parts (a body with fields, a bad query) a pipe would refuse first.
 */
@Injectable()
export class ObjectIdGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { params } = context
      .switchToHttp()
      .getRequest<FastifyRequest<{ Params: { id?: unknown } }>>();
    checkObjectId(params.id);
    return true;
  }
}

/** Throws the 404 of an id that is not an object id. */
export function checkObjectId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !OBJECT_ID_PATTERN.test(id)) {
    throw new ObjectIdNotFoundException(typeof id === 'string' ? id : '');
  }
}

/** object-metadata's 404 for an id of the right format, answered by the gateway for any other one. */
export class ObjectIdNotFoundException extends DomainException {
  constructor(id: string) {
    const characters = Array.from(id);
    const shown =
      characters.length > SHOWN_ID_CHARACTERS
        ? `${characters.slice(0, SHOWN_ID_CHARACTERS).join('')}…`
        : id;
    super(404, 'OBJECT_NOT_FOUND', `object ${shown} not found`);
  }
}
