/** The plan port: a run's stored batches and documents (rules: store-common.ts). */


// ---------------------------------------------------------------------------------------
// 7. Plans
// ---------------------------------------------------------------------------------------

/**
 * Where a run's plan lives, because it does not fit in queue messages: SQS takes 256 KB per
 * message and a 100,000-person initial plan is tens of MB.
 * - Batches: the planner stores each ordered batch (≤ MAX_VALUE_BYTES of JSON) here and
 *   sends a small SQS message `{tenantId, runId, seq}`; the worker loads the batch. An
 *   approval (awaiting_approval -> applying) fans out the stored batches without re-planning.
 * - Documents: the full plan / report (dry run output, the deletions awaiting approval,
 *   `explain`'s plan decision), any size: gzip-compressed and split into chunks, committed
 *   by a header written last, so a reader never sees a half-written document.
 * Both expire with the run's results (default 30 days).
 */
export interface PlanStore {
  /** Store (or replace) batch `seq` of a run. @throws ValidationError when its JSON exceeds MAX_VALUE_BYTES. */
  putBatch(tenantId: string, runId: string, seq: number, body: unknown, ttlSeconds?: number): Promise<void>;
  getBatch(tenantId: string, runId: string, seq: number): Promise<unknown>;
  /** Every batch of a run in seq order. */
  batches(tenantId: string, runId: string): AsyncIterable<{ seq: number; body: unknown }>;
  /** Store (or replace) a named JSON document of a run, any size. */
  putDocument(tenantId: string, runId: string, name: string, value: unknown, ttlSeconds?: number): Promise<void>;
  /** The document, or undefined when absent, expired or never fully written. */
  getDocument(tenantId: string, runId: string, name: string): Promise<unknown>;
}
