import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { FLOW_ORCHESTRATOR_BATCH_OPS as OPS, RunTriggerCall } from '@lib/contracts';
import {
  answerBatch,
  BATCH_CALLS_IN_FLIGHT,
  batchOp,
  INTERNAL_BATCH_PATH,
  type BatchOp,
} from '@lib/internal-http';
import { Metrics } from '@lib/observability';
import type { Gauge } from 'prom-client';
import { RunsService } from '../runs/runs.service';

/**
 * `POST /internal/batch`: the triggers of concurrent requests in one request from the gateway (see
 * @lib/internal-http batched-calls). Each call answers what a trigger answers on its own.
 */
@Controller()
export class BatchController {
  private readonly ops: Record<string, BatchOp>;
  private readonly callsInFlight: Gauge;

  constructor(runs: RunsService, metrics: Metrics) {
    this.callsInFlight = metrics.gauge(BATCH_CALLS_IN_FLIGHT);
    this.ops = {
      [OPS.runTrigger]: batchOp(RunTriggerCall, (c) => runs.trigger(c.workflowId, c.payload, c)),
    };
  }

  @Post(INTERNAL_BATCH_PATH)
  @HttpCode(200)
  answer(@Body() body: unknown) {
    return answerBatch(body, this.ops, this.callsInFlight);
  }
}
