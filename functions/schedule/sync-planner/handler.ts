/**
 * Sync planner: its `plan` queue (on-demand requests from the admin API or the CLI,
 * shared/contracts/sync-request.ts, each handled once by handleSyncRequest: a retryable error
 * fails the record, a malformed one is logged and acknowledged), and the schedules and direct
 * invocations of shared/use-cases/sync/run-planner-event.ts.
 */
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { syncRequestMessageSchema } from '../../../shared/contracts/sync-request';
import { lazyHandler } from '../../../shared/http/http-handler';
import { isSqsEvent, parsedSqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { handleSyncRequest } from '../../../shared/use-cases/sync';
import { runPlannerEvent, type OnDemandEvent, type PlannerDeps, type PlannerResult, type TenantScheduleInput } from '../../../shared/use-cases/sync/run-planner-event';
import { getWiring } from '../../../shared/wiring/wiring';

export type Deps = PlannerDeps;

/** The handler, typed per trigger: SQS records get a partial batch response. */
export interface PlannerHandler {
  (event: ScheduledEvent | OnDemandEvent | TenantScheduleInput, context?: Context): Promise<PlannerResult>;
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
}

export function makeHandler(deps: Deps): PlannerHandler {
  // batchSize 1 in the manifest; if a mapping ever delivers more, one at a time: each may plan for minutes.
  const onRecords = parsedSqsBatchHandler(syncRequestMessageSchema, async (request) => void (await handleSyncRequest(deps.sync, request)), { logger: deps.sync.logger, concurrency: 1 });
  return ((event: unknown, context?: Context) => (isSqsEvent(event) ? onRecords(event, context ?? ({} as Context)) : runPlannerEvent(deps, event))) as PlannerHandler;
}

export const handler = lazyHandler(() => {
  const w = getWiring('syncPlanner');
  return w.flushing(makeHandler({ sync: w.syncDeps(), links: { ...w.linksDeps(), once: w.stores.once } }) as (event: unknown, context: Context) => Promise<PlannerResult | SQSBatchResponse>);
});
