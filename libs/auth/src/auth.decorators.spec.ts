import { Controller, Get, Post } from '@nestjs/common';
import { Authenticated, authSurfaceOf, OperatorOnly } from './auth.decorators';

@Controller('things')
@Authenticated('bearer')
class ThingsController {
  @Get()
  list() {}

  @Post()
  @OperatorOnly()
  purge() {}
}

@Controller('private')
class MixedController {
  @Post()
  @Authenticated('org-key')
  write() {}

  @Get('open')
  open() {}
}

describe('authSurfaceOf', () => {
  it("should read a route's surface from its handler, set on the route or on its controller", () => {
    expect(authSurfaceOf(ThingsController.prototype.list)).toBe('bearer');
    expect(authSurfaceOf(MixedController.prototype.write)).toBe('org-key');
  });

  it("should let a route's own surface win over its controller's", () => {
    expect(authSurfaceOf(ThingsController.prototype.purge)).toBe('operator');
  });

  it('should find none on a public route', () => {
    expect(authSurfaceOf(MixedController.prototype.open)).toBeUndefined();
  });
});
