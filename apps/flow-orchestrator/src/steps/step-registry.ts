import type { StepType } from '@lib/contracts';
import { ArchiveStep } from './archive.step';
import { ChecksumStep } from './checksum.step';
import { CopyStep } from './copy.step';
import { HttpStep } from './http.step';
import type { StepHandler } from './step';

/** The built-in step types (`STEP_TYPES` in @lib/contracts lists the same names for definition checks). */
export class StepRegistry {
  /** Every built-in type; `allowPrivateNetworks` is the `http` step's (HTTP_STEP_ALLOW_PRIVATE_NETWORKS). */
  static builtIn(opts: { allowPrivateNetworks: boolean }): StepRegistry {
    return new StepRegistry([
      new CopyStep(),
      new ArchiveStep(),
      new ChecksumStep(),
      new HttpStep(opts.allowPrivateNetworks),
    ]);
  }

  private readonly handlers = new Map<StepType, StepHandler>();

  constructor(
    handlers: StepHandler[] = [
      new CopyStep(),
      new ArchiveStep(),
      new ChecksumStep(),
      new HttpStep(),
    ],
  ) {
    for (const h of handlers) this.handlers.set(h.type, h);
  }

  get(type: StepType): StepHandler {
    const handler = this.handlers.get(type);
    if (!handler) throw new Error(`no handler for step type '${type}'`);
    return handler;
  }
}
