import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import type { StepDefinition } from '@lib/contracts';
import { StepFailedError, StepHandler, StepInput, StepOutput, StepRunContext } from './step';

const BLOCK = 512;

/** A ustar header: `prefix` is the edge (a folder), `name` the filename. */
export function tarHeader(
  prefix: string,
  name: string,
  size: number,
  mtimeSeconds: number,
): Buffer {
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
    throw new StepFailedError(`'${prefix}/${name}' is too long for a tar entry (100-byte names)`);
  }
  const h = Buffer.alloc(BLOCK);
  const put = (value: string, offset: number, length: number) =>
    h.write(value, offset, length, 'utf8');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtimeSeconds, 12), 136, 12);
  put('        ', 148, 8); // the checksum counts its own field as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(octal(sum, 7) + ' ', 148, 8);
  return h;
}

/** `archive`: the inputs in one tar (or tgz) file, entries `<edge>/<filename>`, streamed S3 → S3. */
export class ArchiveStep implements StepHandler {
  readonly type = 'archive' as const;

  private format(step: StepDefinition): 'tar' | 'tgz' {
    return (step.Config?.Format as 'tar' | 'tgz' | undefined) ?? 'tar';
  }

  plan(step: StepDefinition): string[] {
    return [(step.Config?.Filename as string | undefined) ?? `${step.ID}.${this.format(step)}`];
  }

  async run(ctx: StepRunContext): Promise<StepOutput[]> {
    const mtime = Math.floor(ctx.createdAt.getTime() / 1000);
    const { bytes, signal } = ctx;
    const inputs: StepInput[] = ctx.inputs;
    async function* tar(): AsyncGenerator<Buffer> {
      for (const input of inputs) {
        yield tarHeader(input.edge, input.filename, input.sizeBytes, mtime);
        let written = 0;
        for await (const chunk of await bytes.read(input.objectKey)) {
          signal.throwIfAborted();
          written += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        if (written !== input.sizeBytes) {
          throw new Error(`${input.objectKey} changed while archived (${written} bytes read)`);
        }
        const pad = (BLOCK - (written % BLOCK)) % BLOCK;
        if (pad > 0) yield Buffer.alloc(pad);
      }
      yield Buffer.alloc(2 * BLOCK);
    }
    const format = this.format(ctx.step);
    const body = format === 'tgz' ? Readable.from(tar()).pipe(createGzip()) : tar();
    const [filename] = this.plan(ctx.step);
    const stored = await bytes.write(
      ctx.outputKeys[0],
      body,
      format === 'tgz' ? 'application/gzip' : 'application/x-tar',
    );
    return [{ filename, objectKey: ctx.outputKeys[0], stored }];
  }
}
