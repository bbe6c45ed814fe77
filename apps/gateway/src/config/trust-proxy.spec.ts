import { trustProxySetting } from './trust-proxy';

describe(trustProxySetting.name, () => {
  it('should trust no proxy when the variable is unset, empty or malformed', () => {
    for (const v of [undefined, '', '  ', 'true', 'ingress.local']) {
      expect(trustProxySetting(v)).toBeUndefined();
    }
  });

  it('should give a hop count or an address list when the variable holds one', () => {
    expect(trustProxySetting('1')).toBe(1);
    expect(trustProxySetting('10.0.0.0/8, 127.0.0.1')).toBe('10.0.0.0/8, 127.0.0.1');
    expect(trustProxySetting('fd00::/8')).toBe('fd00::/8');
  });
});
