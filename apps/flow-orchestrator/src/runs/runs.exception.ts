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
