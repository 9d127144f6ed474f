/**
 * RunStore on the single table. Keys: table-keys.ts (run, per-object result rows).
 *
 * A run is one item in the tenant's `T#{t}#RUN` partition, sk = run id (time-sortable, so a
 * backwards Query lists newest first), and in gsi1 under `RUN#{runId}` for lookups by id
 * alone. Counters are top-level number attributes `c_<name>` changed with UpdateItem ADD,
 * which DynamoDB applies atomically, so concurrent workers never lose an increment.
 *
 * Batch bookkeeping without transactions: `completeBatch` ADDs the batch id to the string
 * set `doneBatches`, ADDs -1 to `pendingBatches` and ADDs the batch's counters in ONE
 * UpdateItem conditioned on `NOT contains(doneBatches, :id) AND pendingBatches > 0`. A
 * duplicate delivery fails the condition and changes nothing; the update that takes
 * pendingBatches to 0 returns it (ALL_NEW), so exactly one worker sees `last`.
 *
 * Per-object results are items of `T#{t}#RES#{runId}` with `expiresAt` (TTL), and in gsi1
 * under the object (`T#{t}#OBJ#{type}#{sourceId}`) for `explain`.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type GetCommandOutput, type QueryCommandOutput, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DirectoryObjectType } from '../../domain/directory';
import { NotFoundError } from '../../errors/app-error';
import { RESULT_OUTCOMES, RUN_COUNT_KEYS, type BatchCompletion, type NewRun, type ObjectResult, type ObjectResultWrite, type ResultOutcome, type RunCounts, type RunPatch, type RunRecord, type RunStatus, type RunStore } from '../../ports/run-store';
import { ConflictError, DEFAULT_RESULT_TTL_SECONDS, MAX_SUMMARY_BYTES, type Page, type PageOptions } from '../../ports/store-common';
import { assertCounts, assertHistoryQuery, assertKeyPart, assertNewRun, assertOneOf, assertResultWrite, assertRunId, assertRunPatch, assertTenant, assertTransition, assertTtlSeconds, expiresAtFor, isExpired, runStatusConflict, toJson } from '../../ports/store-validation';
import { compact, DynamoStore, fromItem, Expr, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

const counter = (k: string) => `c_${k}`;

export class DynamoRunStore extends DynamoStore implements RunStore {
  async create(run: NewRun): Promise<RunRecord> {
    assertNewRun(run);
    const now = this.table.clock.now();
    const item = compact({
      ...keys.run(run.tenantId, run.runId),
      ...keys.runIndex(run.tenantId, run.runId),
      runId: run.runId,
      tenantId: run.tenantId,
      source: run.source,
      trigger: run.trigger,
      mode: run.mode,
      dryRun: run.dryRun,
      startedAt: run.startedAt,
      status: run.status ?? 'planning',
      requestId: run.requestId,
      pendingBatches: 0,
      totalBatches: 0,
      updatedAt: now,
      ...Object.fromEntries(RUN_COUNT_KEYS.map((k) => [counter(k), 0])),
    });
    const res = await this.table.write(
      'run create',
      new PutCommand({ TableName: this.table.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    if (!res.ok) throw new ConflictError(`run ${run.runId} exists already`, { code: 'STATE.RUN_EXISTS' });
    return toRun(item);
  }

  async get(tenantId: string, runId: string): Promise<RunRecord | undefined> {
    assertTenant(tenantId);
    assertRunId(runId);
    const item = await this.getItem(tenantId, runId);
    return item ? toRun(item) : undefined;
  }

  async find(runId: string): Promise<RunRecord | undefined> {
    assertRunId(runId);
    const out = await this.table.send<QueryCommandOutput>(
      'run find',
      new QueryCommand({
        TableName: this.table.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': keys.runIndexPartition(runId) },
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? toRun(item) : undefined;
  }

  async list(tenantId: string, options: PageOptions = {}): Promise<Page<RunRecord>> {
    assertTenant(tenantId);
    const pk = keys.runPartition(tenantId);
    return this.table.partitionPage('run list', pk, options, toRun, { newestFirst: true, consistentRead: true });
  }

  async increment(tenantId: string, runId: string, deltas: Partial<RunCounts>): Promise<RunRecord> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertCounts(deltas);
    const e = new Expr();
    const update = e.update({ updatedAt: this.table.clock.now() }, counterAdds(deltas));
    const run = await this.updateRun('run increment', tenantId, runId, e, update);
    if (!run) throw runNotFound(runId);
    return run;
  }

  async completeBatch(tenantId: string, runId: string, batchId: string, deltas: Partial<RunCounts> = {}): Promise<BatchCompletion> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertKeyPart('batchId', batchId, 64);
    assertCounts(deltas);
    const e = new Expr();
    const update = e.update({ updatedAt: this.table.clock.now(), lastBatch: batchId }, { doneBatches: new Set([batchId]), pendingBatches: -1, ...counterAdds(deltas) });
    const run = await this.updateRun('run completeBatch', tenantId, runId, e, update, `NOT contains(${e.name('doneBatches')}, ${e.value(batchId)}) AND ${e.name('pendingBatches')} > ${e.value(0)}`);
    if (run) return { duplicate: false, last: run.pendingBatches === 0, run };
    // The condition failed: find out which part (ReturnValuesOnConditionCheckFailure is not in dynalite).
    const item = await this.getItem(tenantId, runId);
    if (!item) throw runNotFound(runId);
    const done = item.doneBatches as Set<string> | undefined;
    if (done?.has(batchId)) return { duplicate: true, last: false, run: toRun(item) };
    throw new ConflictError(`run ${runId} has no pending batch to complete (batch ${batchId})`, {
      code: 'STATE.NO_PENDING_BATCH',
      details: { runId, batchId },
    });
  }

  async transition(tenantId: string, runId: string, from: RunStatus | readonly RunStatus[], to: RunStatus, patch: RunPatch = {}): Promise<RunRecord> {
    const fromList = assertTransition(tenantId, runId, from, to, patch);
    const e = new Expr();
    const update = e.update({ ...patchAttributes(patch), status: to, updatedAt: this.table.clock.now() });
    const run = await this.updateRun('run transition', tenantId, runId, e, update, `${e.name('status')} IN (${fromList.map((f) => e.value(f)).join(', ')})`);
    if (run) return run;
    const current = await this.getItem(tenantId, runId);
    if (!current) throw runNotFound(runId);
    throw runStatusConflict(runId, current.status, fromList, to);
  }

  async update(tenantId: string, runId: string, patch: RunPatch): Promise<RunRecord> {
    assertTenant(tenantId);
    assertRunId(runId);
    assertRunPatch(patch);
    const e = new Expr();
    const update = e.update({ ...patchAttributes(patch), updatedAt: this.table.clock.now() });
    const run = await this.updateRun('run update', tenantId, runId, e, update);
    if (!run) throw runNotFound(runId);
    return run;
  }

  /**
   * A conditional UpdateItem of one run, answering the run after it, or undefined when the
   * run does not exist or `condition` failed. The condition always requires the run to
   * exist: UpdateItem would otherwise create a ghost run from nothing.
   */
  private async updateRun(what: string, tenantId: string, runId: string, e: Expr, update: string, condition?: string): Promise<RunRecord | undefined> {
    const res = await this.table.write<UpdateCommandOutput>(
      what,
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.run(tenantId, runId),
        UpdateExpression: update,
        ConditionExpression: condition ? `attribute_exists(pk) AND ${condition}` : 'attribute_exists(pk)',
        ReturnValues: 'ALL_NEW',
        ...e.attrs(),
      }),
    );
    return res.ok ? toRun(res.out.Attributes ?? {}) : undefined;
  }

  async putResult(result: ObjectResultWrite, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<ObjectResult> {
    assertResultWrite(result);
    assertTtlSeconds(ttlSeconds);
    const stored = resultRecord(result, expiresAtFor(this.table.clock.now(), ttlSeconds));
    await this.table.send(
      'run putResult',
      new PutCommand({
        TableName: this.table.tableName,
        Item: compact({
          ...keys.result(result.tenantId, result.runId, result.objectType, result.sourceId, result.operation),
          ...keys.resultIndex(result.tenantId, result.runId, result.objectType, result.sourceId, result.operation),
          ...stored,
        }),
      }),
    );
    return stored;
  }

  async listResults(tenantId: string, runId: string, options: PageOptions & { outcome?: ResultOutcome } = {}): Promise<Page<ObjectResult>> {
    assertTenant(tenantId);
    assertRunId(runId);
    if (options.outcome !== undefined) assertOneOf('outcome', options.outcome, RESULT_OUTCOMES);
    const pk = keys.resultPartition(tenantId, runId);
    const now = this.table.clock.now();
    return this.table.partitionPage('run listResults', pk, options, (item) => liveResult(item, now, options.outcome), { consistentRead: true });
  }

  async *results(tenantId: string, runId: string, options: { outcome?: ResultOutcome; pageSize?: number } = {}): AsyncIterable<ObjectResult> {
    let cursor: string | undefined;
    do {
      const page = await this.listResults(tenantId, runId, { outcome: options.outcome, limit: options.pageSize ?? 500, cursor });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  async objectHistory(tenantId: string, objectType: DirectoryObjectType, sourceId: string, options: { limit?: number } = {}): Promise<ObjectResult[]> {
    const limit = assertHistoryQuery(tenantId, objectType, sourceId, options.limit);
    const now = this.table.clock.now();
    const found: ObjectResult[] = [];
    // Newest run first (gsi1sk starts with the time-sortable run id); skip expired rows.
    for await (const item of this.table.queryAll('run objectHistory', {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': keys.resultIndexPartition(tenantId, objectType, sourceId) },
      ScanIndexForward: false,
    }, Math.min(limit * 2, 1000))) {
      const r = liveResult(item, now);
      if (r) found.push(r);
      if (found.length >= limit) break;
    }
    return found;
  }

  private async getItem(tenantId: string, runId: string): Promise<Item | undefined> {
    const out = await this.table.send<GetCommandOutput>(
      'run get',
      new GetCommand({ TableName: this.table.tableName, Key: keys.run(tenantId, runId), ConsistentRead: true }),
    );
    return out.Item;
  }
}

function counterAdds(deltas: Partial<RunCounts>): Record<string, number> {
  const adds: Record<string, number> = {};
  for (const [k, v] of Object.entries(deltas)) if (v !== undefined && v !== 0) adds[counter(k)] = v;
  return adds;
}

/** Patch fields as attributes (undefined = leave unchanged, so they are dropped here). */
function patchAttributes(patch: RunPatch): Record<string, unknown> {
  return compact({
    endedAt: patch.endedAt,
    totalBatches: patch.totalBatches,
    // Fan-out announces all its batches at once, before sending any.
    pendingBatches: patch.totalBatches,
    summaryJson: patch.summary === undefined ? undefined : toJson('summary', patch.summary, MAX_SUMMARY_BYTES),
    error: patch.error === undefined ? undefined : { code: patch.error.code, message: patch.error.message },
    decision: patch.decision === undefined ? undefined : compact({ ...patch.decision }),
    recovery: patch.recovery === undefined ? undefined : compact({ ...patch.recovery }),
  });
}

function runNotFound(runId: string): NotFoundError {
  return new NotFoundError(`run ${runId} not found`, { code: 'STATE.RUN_NOT_FOUND' });
}

function toRun(item: Item): RunRecord {
  const counts = Object.fromEntries(RUN_COUNT_KEYS.map((k) => [k, (item[counter(k)] as number | undefined) ?? 0])) as RunCounts;
  const done = item.doneBatches as Set<string> | undefined;
  const run: RunRecord = {
    runId: item.runId as string,
    tenantId: item.tenantId as string,
    trigger: item.trigger as RunRecord['trigger'],
    mode: item.mode as RunRecord['mode'],
    dryRun: item.dryRun as boolean,
    startedAt: item.startedAt as number,
    status: item.status as RunStatus,
    counts,
    pendingBatches: (item.pendingBatches as number | undefined) ?? 0,
    totalBatches: (item.totalBatches as number | undefined) ?? 0,
    completedBatches: done ? done.size : 0,
    updatedAt: item.updatedAt as number,
  };
  if (item.source !== undefined) run.source = item.source as RunRecord['source'];
  if (typeof item.requestId === 'string') run.requestId = item.requestId;
  if (item.endedAt !== undefined) run.endedAt = item.endedAt as number;
  if (typeof item.summaryJson === 'string') run.summary = JSON.parse(item.summaryJson);
  if (item.error !== undefined) run.error = item.error as RunRecord['error'];
  if (item.decision !== undefined) run.decision = item.decision as RunRecord['decision'];
  if (typeof item.lastBatch === 'string') run.lastBatch = item.lastBatch;
  if (item.recovery !== undefined) run.recovery = item.recovery as RunRecord['recovery'];
  return run;
}

/** Exactly the result fields (a caller's extra properties are not stored). */
function resultRecord(w: ObjectResultWrite, expiresAt: number): ObjectResult {
  return compact({
    tenantId: w.tenantId,
    runId: w.runId,
    objectType: w.objectType,
    sourceId: w.sourceId,
    operation: w.operation,
    outcome: w.outcome,
    errorCode: w.errorCode,
    message: w.message,
    neteaseId: w.neteaseId,
    at: w.at,
    expiresAt,
  });
}

function liveResult(item: Item, now: number, outcome?: ResultOutcome): ObjectResult | undefined {
  if (isExpired(item.expiresAt as number | undefined, now)) return undefined;
  if (outcome !== undefined && item.outcome !== outcome) return undefined;
  return fromItem<ObjectResult>(item, ['tenantId', 'runId', 'objectType', 'sourceId', 'operation', 'outcome', 'at', 'expiresAt'], ['errorCode', 'message', 'neteaseId']);
}
