/** How long one attempt of a step, and all of a run's steps, may take (STEP_DEADLINE_MS, RUN_DEADLINE_MS). */
export class RunDeadlines {
  constructor(
    readonly stepMs: number,
    readonly runMs: number,
  ) {}
}

/**
 * `work`, unless `signal` aborts first: then a rejection with the signal's reason, at once. A step told to
 * stop (it gets the same signal) may take a moment to; its worker is free at the deadline all the same.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
