import { assertReachableTarget, isPrivateAddress } from './http-target';
import { StepFailedError } from './step';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fd00::1',
    '::ffff:127.0.0.1',
  ])('should flag %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('should let %s through', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );
});

describe('assertReachableTarget', () => {
  it('should refuse a URL whose host is a private address', async () => {
    await expect(assertReachableTarget('http://169.254.169.254/latest', false)).rejects.toThrow(
      StepFailedError,
    );
    await expect(assertReachableTarget('http://[::1]:3001/internal', false)).rejects.toThrow(
      'private address ::1',
    );
  });

  it('should allow anything when private networks are allowed', async () => {
    await expect(assertReachableTarget('http://127.0.0.1:9/', true)).resolves.toBeUndefined();
  });
});
