import { expandKeyTemplate } from './flow-definition';

describe('expandKeyTemplate', () => {
  it('should replace every known variable', () => {
    expect(
      expandKeyTemplate('${WORKFLOW_NAME}/${RUN_ID}/${EDGE}.bin', {
        RUN_ID: 'r1',
        WORKFLOW_ID: 'w1',
        WORKFLOW_NAME: 'flow',
        EDGE: 'e',
      }),
    ).toBe('flow/r1/e.bin');
  });
});
