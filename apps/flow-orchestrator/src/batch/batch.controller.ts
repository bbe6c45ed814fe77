import { Controller } from '@nestjs/common';
import { FLOW_ORCHESTRATOR_BATCH_OPS as OPS, RunTriggerCall } from '@lib/contracts';
import {
  BATCH_CALLS_IN_FLIGHT,
  batchOp,
  CalledBy,
  InternalBatchController,
  ServiceTokens,
} from '@lib/internal-http';
import { Metrics } from '@lib/observability';
import { RunTriggersService } from '../runs/run-triggers.service';

/**
 * `POST /internal/batch`: the triggers of concurrent requests in one request from the gateway (see
 * @lib/internal-http batched-calls). Each call answers what a trigger answers on its own, for the org of its
 * token's principal.
 */
@Controller()
@CalledBy('gateway')
export class BatchController extends InternalBatchController {
  constructor(triggers: RunTriggersService, metrics: Metrics, tokens: ServiceTokens) {
    super(
      {
        [OPS.runTrigger]: batchOp(RunTriggerCall, (c, p) =>
          triggers.trigger(c.workflowId, c.payload, p),
        ),
      },
      metrics.gauge(BATCH_CALLS_IN_FLIGHT),
      tokens,
    );
  }
}
