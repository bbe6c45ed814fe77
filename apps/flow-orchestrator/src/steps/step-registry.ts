import type { StepType } from '@lib/contracts';
import { ArchiveStep } from './archive.step';
import { ChecksumStep } from './checksum.step';
import { CopyStep } from './copy.step';
import { HttpStep, type HttpStepOptions } from './http.step';
import type { StepHandler } from './step';

/** The built-in step types (`STEP_TYPES` in @lib/contracts lists the same names for definition checks). */
export class StepRegistry {
  /** Every built-in type; `http` is the `http` step's options (HTTP_STEP_ALLOW_PRIVATE_NETWORKS). */
  static builtIn(http: HttpStepOptions): StepRegistry {
    return new StepRegistry([
      new CopyStep(),
      new ArchiveStep(),
      new ChecksumStep(),
      new HttpStep(http),
    ]);
  }

  private readonly handlers = new Map<StepType, StepHandler>();

  constructor(handlers: StepHandler[]) {
    for (const h of handlers) this.handlers.set(h.type, h);
  }

  get(type: StepType): StepHandler {
    const handler = this.handlers.get(type);
    if (!handler) throw new Error(`no handler for step type '${type}'`);
    return handler;
  }
}
