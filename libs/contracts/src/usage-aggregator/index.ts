import { IsOptional, IsUUID } from 'class-validator';

// What usage-aggregator's internal route takes and answers (`UsageAggregatorClient` of @lib/clients sends
// it, its controller validates it), for the org of the call's principal.

export class UsageQuery {
  /** Narrows to the files this user first stored. */
  @IsOptional()
  @IsUUID()
  createdBy?: string;
}

/** An org's storage usage from the pre-computed aggregates (`orgKey` is the gateway's to fill). */
export interface UsageView {
  orgKey: string | null;
  totalBytes: number;
  inputBytes: number;
  outputBytes: number;
  fileCount: number;
  breakdown: { workflowId: string; workflowName: string; bytes: number; fileCount: number }[];
}
