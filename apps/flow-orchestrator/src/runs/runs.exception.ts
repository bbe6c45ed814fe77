import { CommonErrorCode, DomainException } from '@lib/errors';

export class WorkflowNotFoundException extends DomainException {
  constructor(what: string) {
    super(404, CommonErrorCode.NotFound, what);
  }
}

export class RunNotFoundException extends DomainException {
  constructor(runId: string) {
    super(404, CommonErrorCode.NotFound, `No run '${runId}'`);
  }
}

export class InvalidFlowDefinitionException extends DomainException {
  constructor(message: string) {
    super(400, 'INVALID_FLOW_DEFINITION', message);
  }
}

export class RunNotWaitingException extends DomainException {
  constructor(runId: string, status: string) {
    super(409, 'RUN_NOT_WAITING', `Run '${runId}' is ${status}, not WAITING`);
  }
}

export class EdgeNotWaitingException extends DomainException {
  constructor(runId: string, edge: string, why: string) {
    super(409, 'EDGE_NOT_WAITING', `Edge '${edge}' of run '${runId}' ${why}`);
  }
}

export class UnknownEdgeException extends DomainException {
  constructor(runId: string, edge: string) {
    super(404, CommonErrorCode.NotFound, `Run '${runId}' has no upload edge '${edge}'`);
  }
}

/** An upload to an edge larger than a run input may be (`RUN_INPUT_MAX_BYTES`): refused, its run ERROR. */
export class RunInputTooLargeException extends DomainException {
  constructor(edge: string, sizeBytes: number, maxBytes: number) {
    super(
      413,
      'RUN_INPUT_TOO_LARGE',
      `the upload to edge '${edge}' is ${sizeBytes} bytes, more than the ${maxBytes} a run input may hold`,
    );
  }
}
