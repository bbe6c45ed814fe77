import { createHash } from 'node:crypto';
import type { StepDefinition } from '@lib/contracts';
import { StepHandler, StepOutput, StepRunContext } from './step';

/** `checksum`: a sha256 manifest of the inputs (`sha256sum` format: `<hex>  <edge>/<filename>`). */
export class ChecksumStep implements StepHandler {
  readonly type = 'checksum' as const;

  plan(step: StepDefinition): string[] {
    return [(step.Config?.Filename as string | undefined) ?? `${step.ID}.sha256`];
  }

  async run(ctx: StepRunContext): Promise<StepOutput[]> {
    let manifest = '';
    for (const input of ctx.inputs) {
      const hash = createHash('sha256');
      for await (const chunk of await ctx.bytes.read(input.objectKey)) {
        ctx.signal.throwIfAborted();
        hash.update(chunk as Buffer);
      }
      manifest += `${hash.digest('hex')}  ${input.edge}/${input.filename}\n`;
    }
    const [filename] = this.plan(ctx.step);
    const stored = await ctx.bytes.put(
      ctx.outputKeys[0],
      Buffer.from(manifest),
      'text/plain; charset=utf-8',
    );
    return [{ filename, objectKey: ctx.outputKeys[0], stored }];
  }
}
