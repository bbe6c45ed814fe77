import { FlowDefinitionError } from './flow-definition';
import { parseFlowDefinition } from './flow-definition-parser';

describe('parseFlowDefinition', () => {
  const well = {
    Edge: 'image-input',
    Store: 's3-bucket',
    Source: 'upload',
    Key: '${RUN_ID}/input.jpg',
  };

  it('should accept flow data wells without steps', () => {
    const sut = parseFlowDefinition({ Flow: { DataWells: [well] } });
    expect(sut).toEqual({ DataWells: [well], Steps: [], StartingStepID: null });
  });

  it('should accept a chain whose inputs are data well edges or earlier outputs', () => {
    const sut = parseFlowDefinition({
      Flow: {
        DataWells: [well],
        Steps: [
          { ID: 'a', Type: 'copy', Inputs: ['image-input'], Output: 'copies', Next: 'b' },
          { ID: 'b', Type: 'archive', Inputs: ['copies'], Config: { Format: 'tgz' } },
        ],
        StartingStepID: 'a',
      },
    });
    expect(sut.Steps.map((s) => s.ID)).toEqual(['a', 'b']);
  });

  it.each([
    [{ Flow: { DataWells: [{ ...well, Source: 'webhook' }] } }, "'webhook' is not supported yet"],
    [{ Flow: { DataWells: [{ ...well, Source: 'ftp' }] } }, 'Source must be one of'],
    [{ Flow: { DataWells: [{ ...well, Key: '${NOPE}' }] } }, "unknown template variable '${NOPE}'"],
    [{ Flow: { DataWells: [{ ...well, Key: '../x' }] } }, "without empty, '.' or '..' segments"],
    [{ Flow: { DataWells: [{ ...well, Key: 'a/${RUN_ID' }] } }, "unclosed '${'"],
    [{ Flow: { DataWells: [well, well] } }, 'is not unique'],
    [
      { Flow: { DataWells: [{ ...well, Key: `${'x'.repeat(200)}-\${WORKFLOW_NAME}` }] } },
      'may expand to more than 255 bytes',
    ],
    [
      { Flow: { Steps: [{ ID: 's', Type: 'nope' }], StartingStepID: 's' } },
      "unknown step type 'nope'",
    ],
    [
      { Flow: { Steps: [{ ID: 's', Type: 'http', Config: { URL: 'http://x' } }] } },
      'StartingStepID is missing',
    ],
    [
      {
        Flow: {
          Steps: [
            { ID: 'x', Type: 'http', Config: { URL: 'http://x' }, Next: 'y' },
            { ID: 'y', Type: 'http', Config: { URL: 'http://x' }, Next: 'x' },
          ],
          StartingStepID: 'x',
        },
      },
      "cycle through step 'x'",
    ],
    [
      { Flow: { Steps: [{ ID: 'c', Type: 'copy', Inputs: ['ghost'] }], StartingStepID: 'c' } },
      "unknown edge 'ghost'",
    ],
    [
      {
        Flow: {
          DataWells: [well, { ...well, Edge: 'other' }],
          Steps: [{ ID: 'a', Type: 'archive', Inputs: ['image-input', 'other', 'image-input'] }],
          StartingStepID: 'a',
        },
      },
      "Flow.Steps[0].Inputs: edge 'image-input' is listed more than once",
    ],
    [
      {
        Flow: {
          Steps: [{ ID: 'h', Type: 'http', Config: { URL: 'ftp://x' } }],
          StartingStepID: 'h',
        },
      },
      'must be http(s)',
    ],
    [
      {
        Flow: {
          Steps: [
            { ID: 'h', Type: 'http', Config: { URL: 'http://x' } },
            { ID: 'lonely', Type: 'http', Config: { URL: 'http://x' } },
          ],
          StartingStepID: 'h',
        },
      },
      "'lonely' is not reachable",
    ],
    [{ Flow: { DataWells: [], Bogus: true } }, "unknown field 'Bogus'"],
    [[], 'the body must be a JSON object'],
  ])('should refuse %j naming the problem', (body, message) => {
    expect(() => parseFlowDefinition(body)).toThrow(FlowDefinitionError);
    expect(() => parseFlowDefinition(body)).toThrow(message);
  });
});
