/** In-memory RunStore with the semantics of DynamoRunStore (same contract suite). */
import type { DirectoryObjectType } from '../../domain/directory';
import { NotFoundError } from '../../errors/app-error';
import { RESULT_OUTCOMES, zeroCounts, type BatchCompletion, type NewRun, type ObjectResult, type ObjectResultWrite, type ResultOutcome, type RunCounts, type RunPatch, type RunRecord, type RunStatus, type RunStore } from '../../ports/run-store';
import { ConflictError, DEFAULT_RESULT_TTL_SECONDS, type Page, type PageOptions } from '../../ports/store-common';
import { assertCounts, assertHistoryQuery, assertKeyPart, assertNewRun, assertOneOf, assertPageLimit, assertResultWrite, assertRunId, assertRunPatch, assertTenant, assertTransition, assertTtlSeconds, expiresAtFor, isExpired, runStatusConflict } from '../../ports/store-validation';
import { allPages, copy, key, MemoryStore, Partitions, SortedPartition } from './memory-common';

interface RunItem {
  run: RunRecord;
  doneBatches: Set<string>;
}

export class MemoryRunStore extends MemoryStore implements RunStore {
  /** Per tenant, by run id (time-sortable). */
  private readonly runs = new Partitions<RunItem>();
  private readonly byId = new Map<string, RunItem>();
  /** Per tenant and run: results by (type, sourceId, operation). */
  private readonly resultParts = new Partitions<ObjectResult>();
  /** Per tenant, type and sourceId: the result keys across runs (the `explain` index). */
  private readonly history = new Map<string, Map<string, ObjectResult>>();

  async create(input: NewRun): Promise<RunRecord> {
    assertNewRun(input);
    const part = this.runs.for(runPartition(input.tenantId));
    if (part.get(input.runId)) throw new ConflictError(`run ${input.runId} exists already`, { code: 'STATE.RUN_EXISTS' });
    const run: RunRecord = copy({
      runId: input.runId,
      tenantId: input.tenantId,
      source: input.source,
      trigger: input.trigger,
      mode: input.mode,
      dryRun: input.dryRun,
      startedAt: input.startedAt,
      status: input.status ?? 'planning',
      ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
      counts: zeroCounts(),
      pendingBatches: 0,
      totalBatches: 0,
      completedBatches: 0,
      updatedAt: this.clock.now(),
    });
    const item = { run, doneBatches: new Set<string>() };
    part.set(input.runId, item);
    this.byId.set(input.runId, item);
    return copy(run);
  }

  async get(tenantId: string, runId: string): Promise<RunRecord | undefined> {
    assertTenant(tenantId);
    assertRunId(runId);
    const item = this.runs.get(runPartition(tenantId))?.get(runId);
    return item ? copy(item.run) : undefined;
  }

  async find(runId: string): Promise<RunRecord | undefined> {
    assertRunId(runId);
    const item = this.byId.get(runId);
    return item ? copy(item.run) : undefined;
  }

  async list(tenantId: string, options: PageOptions = {}): Promise<Page<RunRecord>> {
    assertTenant(tenantId);
    const name = runPartition(tenantId);
    const part = this.runs.get(name) ?? new SortedPartition<RunItem>();
    return part.page(name, assertPageLimit(options.limit), options.cursor, (i) => copy(i.run), true);
  }

  async increment(tenantId: string, runId: string, deltas: Partial<RunCounts>): Promise<RunRecord> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertCounts(deltas);
    const item = this.item(tenantId, runId);
    addCounts(item.run.counts, deltas);
    item.run.updatedAt = this.clock.now();
    return copy(item.run);
  }

  async completeBatch(tenantId: string, runId: string, batchId: string, deltas: Partial<RunCounts> = {}): Promise<BatchCompletion> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertKeyPart('batchId', batchId, 64);
    assertCounts(deltas);
    const item = this.item(tenantId, runId);
    if (item.doneBatches.has(batchId)) return { duplicate: true, last: false, run: copy(item.run) };
    if (item.run.pendingBatches <= 0) {
      throw new ConflictError(`run ${runId} has no pending batch to complete (batch ${batchId})`, { code: 'STATE.NO_PENDING_BATCH', details: { runId, batchId } });
    }
    item.doneBatches.add(batchId);
    item.run.completedBatches = item.doneBatches.size;
    item.run.lastBatch = batchId;
    item.run.pendingBatches -= 1;
    addCounts(item.run.counts, deltas);
    item.run.updatedAt = this.clock.now();
    return { duplicate: false, last: item.run.pendingBatches === 0, run: copy(item.run) };
  }

  async transition(tenantId: string, runId: string, from: RunStatus | readonly RunStatus[], to: RunStatus, patch: RunPatch = {}): Promise<RunRecord> {
    const fromList = assertTransition(tenantId, runId, from, to, patch);
    const item = this.item(tenantId, runId);
    if (!fromList.includes(item.run.status)) throw runStatusConflict(runId, item.run.status, fromList, to);
    applyPatch(item.run, patch);
    item.run.status = to;
    item.run.updatedAt = this.clock.now();
    return copy(item.run);
  }

  async update(tenantId: string, runId: string, patch: RunPatch): Promise<RunRecord> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertRunPatch(patch);
    const item = this.item(tenantId, runId);
    applyPatch(item.run, patch);
    item.run.updatedAt = this.clock.now();
    return copy(item.run);
  }

  async putResult(result: ObjectResultWrite, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<ObjectResult> {
    assertResultWrite(result);
    assertTtlSeconds(ttlSeconds);
    const stored: ObjectResult = copy({
      tenantId: result.tenantId,
      runId: result.runId,
      objectType: result.objectType,
      sourceId: result.sourceId,
      operation: result.operation,
      outcome: result.outcome,
      errorCode: result.errorCode,
      message: result.message,
      neteaseId: result.neteaseId,
      at: result.at,
      expiresAt: expiresAtFor(this.clock.now(), ttlSeconds),
    });
    const rk = key(result.objectType, result.sourceId, result.operation);
    this.resultParts.for(resultPartition(result.tenantId, result.runId)).set(rk, stored);
    const hk = key(result.tenantId, result.objectType, result.sourceId);
    let h = this.history.get(hk);
    if (!h) this.history.set(hk, (h = new Map()));
    h.set(key(result.runId, result.operation), stored);
    return copy(stored);
  }

  async listResults(tenantId: string, runId: string, options: PageOptions & { outcome?: ResultOutcome } = {}): Promise<Page<ObjectResult>> {
    assertTenant(tenantId);
    assertRunId(runId);
    if (options.outcome !== undefined) assertOneOf('outcome', options.outcome, RESULT_OUTCOMES);
    const name = resultPartition(tenantId, runId);
    const now = this.clock.now();
    const part = this.resultParts.get(name) ?? new SortedPartition<ObjectResult>();
    return part.page(name, assertPageLimit(options.limit), options.cursor, (r) =>
      isExpired(r.expiresAt, now) || (options.outcome !== undefined && r.outcome !== options.outcome) ? undefined : copy(r),
    );
  }

  results(tenantId: string, runId: string, options: { outcome?: ResultOutcome; pageSize?: number } = {}): AsyncIterable<ObjectResult> {
    return allPages((cursor) => this.listResults(tenantId, runId, { outcome: options.outcome, limit: options.pageSize ?? 500, cursor }));
  }

  async objectHistory(tenantId: string, objectType: DirectoryObjectType, sourceId: string, options: { limit?: number } = {}): Promise<ObjectResult[]> {
    const limit = assertHistoryQuery(tenantId, objectType, sourceId, options.limit);
    const now = this.clock.now();
    const h = this.history.get(key(tenantId, objectType, sourceId)) ?? new Map<string, ObjectResult>();
    // Newest run first, as the Dynamo index (sk = runId#operation, read backwards).
    return [...h.values()]
      .filter((r) => !isExpired(r.expiresAt, now))
      .sort((a, b) => (a.runId === b.runId ? cmp(b.operation, a.operation) : cmp(b.runId, a.runId)))
      .slice(0, limit)
      .map(copy);
  }

  private item(tenantId: string, runId: string): RunItem {
    const item = this.runs.get(runPartition(tenantId))?.get(runId);
    if (!item) throw new NotFoundError(`run ${runId} not found`, { code: 'STATE.RUN_NOT_FOUND' });
    return item;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function addCounts(counts: RunCounts, deltas: Partial<RunCounts>): void {
  for (const [k, v] of Object.entries(deltas) as [keyof RunCounts, number | undefined][]) if (v !== undefined) counts[k] += v;
}

function applyPatch(run: RunRecord, patch: RunPatch): void {
  if (patch.endedAt !== undefined) run.endedAt = patch.endedAt;
  if (patch.totalBatches !== undefined) {
    run.totalBatches = patch.totalBatches;
    run.pendingBatches = patch.totalBatches;
  }
  if (patch.summary !== undefined) run.summary = copy(patch.summary);
  if (patch.error !== undefined) run.error = { code: patch.error.code, message: patch.error.message };
  if (patch.decision !== undefined) run.decision = copy(patch.decision);
  if (patch.recovery !== undefined) run.recovery = copy(patch.recovery);
}

function runPartition(tenantId: string): string {
  return key('RUN', tenantId);
}

function resultPartition(tenantId: string, runId: string): string {
  return key('RES', tenantId, runId);
}
