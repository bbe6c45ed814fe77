import type { StepDefinition } from '@lib/contracts';
import { StepHandler, StepInput, StepOutput, StepRunContext } from './step';

/** `copy`: every input file, as it is, to the step's output edge (a server-side S3 copy). */
export class CopyStep implements StepHandler {
  readonly type = 'copy' as const;

  plan(_step: StepDefinition, inputs: StepInput[]): string[] {
    return inputs.map((i) => i.filename);
  }

  async run(ctx: StepRunContext): Promise<StepOutput[]> {
    const outputs: StepOutput[] = [];
    for (const [i, input] of ctx.inputs.entries()) {
      ctx.signal.throwIfAborted();
      const stored = await ctx.bytes.copy(input.objectKey, ctx.outputKeys[i]);
      outputs.push({ filename: input.filename, objectKey: ctx.outputKeys[i], stored });
    }
    return outputs;
  }
}
