import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { FLOW_ORCHESTRATOR_BATCH_OPS as OPS, RunTriggerCall } from '@lib/contracts';
import { answerBatch, batchOp, INTERNAL_BATCH_PATH, type BatchOp } from '@lib/internal-http';
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
    this.callsInFlight = metrics.gauge({
      name: 'internal_batch_calls_in_flight',
      help: 'Calls of batched internal requests (POST /internal/batch) received and not yet answered.',
    });
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
