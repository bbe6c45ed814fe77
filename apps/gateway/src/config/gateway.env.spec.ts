import { validateEnv } from '@lib/config';
import { GatewayEnv } from './gateway.env';

const validate = validateEnv(GatewayEnv);

/** The problems the environment's validation names (the rest of this environment is incomplete). */
function problems(env: Record<string, string>): string {
  try {
    validate(env);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('GatewayEnv HTTP deadlines', () => {
  it('should take whole numbers of milliseconds within bounds', () => {
    const found = problems({
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: 'two minutes',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(3_600_000),
    });
    expect(found).toMatch(/HTTP_HEADERS_TIMEOUT_MS must not be less than 1000/);
    expect(found).toMatch(/HTTP_REQUEST_TIMEOUT_MS must be an integer number/);
    expect(found).toMatch(/HTTP_KEEP_ALIVE_TIMEOUT_MS must not be greater than 600000/);
  });

  it('should refuse a request deadline shorter than the headers deadline', () => {
    expect(
      problems({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).toMatch(/HTTP_REQUEST_TIMEOUT_MS must not be below HTTP_HEADERS_TIMEOUT_MS/);
    expect(
      problems({ HTTP_HEADERS_TIMEOUT_MS: '10000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).not.toMatch(/HTTP_/);
  });

  it('should have deadlines by default, and no problem with them', () => {
    expect(problems({})).not.toMatch(/HTTP_/);
  });
});
