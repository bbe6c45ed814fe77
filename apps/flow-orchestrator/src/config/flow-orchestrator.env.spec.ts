import { InvalidEnvironmentError, validateEnv } from '@lib/config';
import { FlowOrchestratorEnv } from './flow-orchestrator.env';

const validate = validateEnv(FlowOrchestratorEnv);

/** What validation at boot says of `names` in `env` (the rest of the environment is not under test). */
function problems(env: Record<string, string>, names: string[]): string[] {
  try {
    validate(env);
    return [];
  } catch (err) {
    return (err as InvalidEnvironmentError).problems.filter((p) =>
      names.some((n) => p.startsWith(n)),
    );
  }
}

describe('FlowOrchestratorEnv deadlines', () => {
  const names = ['STEP_DEADLINE_MS', 'RUN_DEADLINE_MS'];

  it('should accept the defaults and whole milliseconds in range', () => {
    expect(problems({}, names)).toEqual([]);
    expect(problems({ STEP_DEADLINE_MS: '100', RUN_DEADLINE_MS: '86400000' }, names)).toEqual([]);
  });

  it.each([
    ['STEP_DEADLINE_MS', '99', 'STEP_DEADLINE_MS must not be less than 100'],
    ['STEP_DEADLINE_MS', '3600001', 'STEP_DEADLINE_MS must not be greater than 3600000'],
    ['STEP_DEADLINE_MS', '1.5', 'STEP_DEADLINE_MS must be an integer number'],
    ['RUN_DEADLINE_MS', '0', 'RUN_DEADLINE_MS must not be less than 100'],
    ['RUN_DEADLINE_MS', '86400001', 'RUN_DEADLINE_MS must not be greater than 86400000'],
    ['RUN_DEADLINE_MS', 'soon', 'RUN_DEADLINE_MS must be an integer number'],
  ])('should stop the app at boot for %s=%s', (name, value, problem) => {
    expect(problems({ [name]: value }, names)).toContain(problem);
  });
});
