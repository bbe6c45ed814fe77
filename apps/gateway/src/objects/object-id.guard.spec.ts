import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { ExecutionContext } from '@nestjs/common';
import { toErrorResponse } from '@lib/errors';
import { ObjectIdGuard } from './object-id.guard';
import { ObjectsController } from './objects.controller';

describe(ObjectIdGuard.name, () => {
  const sut = new ObjectIdGuard();
  const id = 'obj_0196f3c2a1b07c4d9e8f0a1b2c3d4e5f';
  const contextOf = (params: Record<string, unknown>) =>
    ({ switchToHttp: () => ({ getRequest: () => ({ params }) }) }) as unknown as ExecutionContext;

  const refusal = (value: unknown) => {
    try {
      sut.canActivate(contextOf({ id: value }));
    } catch (err) {
      return toErrorResponse(err);
    }
    throw new Error('the id was accepted');
  };

  it('should let a well-formed object id through', () => {
    expect(sut.canActivate(contextOf({ id }))).toBe(true);
  });

  it.each([
    ['a made-up name', 'obj_doesnotexist'],
    ['a number', '123'],
    ['a UUID', '0196f3c2-a1b0-7c4d-9e8f-0a1b2c3d4e5f'],
    ['upper-case hex', id.toUpperCase()],
    ['one digit too many', `${id}0`],
    ['unicode', 'obj_é😀'],
    ['NUL', '\u0000'],
    ['SQL', "obj_' OR 1=1 --"],
    ['an empty string', ''],
    ['no id at all', undefined],
  ])('should answer 404 OBJECT_NOT_FOUND to %s', (_what, value) => {
    const { status, body } = refusal(value);
    expect(status).toBe(404);
    expect(body.code).toBe('OBJECT_NOT_FOUND');
    expect(body.message).toMatch(/^object .* not found$/s);
  });

  it('should repeat at most 64 characters of a long id in the message', () => {
    const { body } = refusal('😀'.repeat(300));
    expect(body.message).toBe(`object ${'😀'.repeat(64)}… not found`);
  });

  it('should guard every operation of the Objects API whose path has an id', () => {
    const methods = Object.getOwnPropertyNames(ObjectsController.prototype)
      .map((name) => ObjectsController.prototype[name as keyof ObjectsController])
      .filter((handler) => typeof handler === 'function');
    const withId = methods.filter((handler) =>
      String(Reflect.getMetadata(PATH_METADATA, handler)).includes(':id'),
    );
    expect(withId).toHaveLength(6);
    for (const handler of withId) {
      const guards = (Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[];
      expect([handler.name, guards]).toEqual([
        handler.name,
        expect.arrayContaining([ObjectIdGuard]),
      ]);
    }
  });
});
