/**
 * startSyncRun: plan one tenant's sync and start applying it (or stop at a dry run, or park
 * it for approval). The one entry point of the schedule, the admin API, the CLI and the
 * local stack's first sync.
 *
 * 1. Take the tenant's `sync` lock (LockStore, owner = the new run id): two runs of a
 *    tenant never overlap; a second request is refused with "a run is in progress: <id>"
 *    and where that run stands (its last progress, when the lock frees: recover-runs.ts).
 *    Runs that lost the lock while planning/applying are closed as failed (sweepStaleRuns).
 * 2. Read the source: incremental = changesSince(stored watermarks) where the source has a
 *    change feed and both watermarks exist; otherwise a full snapshot. A caller that knows
 *    what changed (the callback worker: the objects contact events named, re-read from the
 *    source) passes `changes` instead: the run is incremental with that view, read under
 *    the lock, and no watermark moves. Deletions are
 *    computed only from a complete snapshot (the planner's rule; DirectorySource throws
 *    rather than return a partial pull).
 * 3. Load the mappings; on full runs read what NetEase holds (netease-state.ts): adoption
 *    (existing units and mailboxes are linked, never duplicated) and names the planner must not take.
 * 4. planSync (pure). Store the plan document, the source's watermarks and a small summary.
 * 5. Dry run: status dry_run, nothing applied. Parked by the safety checks: batches stored,
 *    status awaiting_approval, the lock kept for the approval window. Empty: success at once.
 *    Otherwise: batches stored, totalBatches announced (status applying), phase 0 sent.
 */
import type { DirectoryChanges, DirectorySnapshot, DirectoryObjectType } from '../../domain/directory';
import type { DirectorySource } from '../../ports/directory-source';
import { planBatches, formatPlan } from '../../domain/plan-report';
import { planSync } from '../../domain/plan-sync';
import type { NeteaseState, SourceView, SyncPlan } from '../../domain/sync-plan';
import { describeParkReason } from '../../domain/safety';
import { ValidationError } from '../../errors/app-error';
import { newRunId, type RunMode, type RunRecord, type RunTrigger } from '../../ports/run-store';
import type { SyncDeps } from './sync-deps';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import { syncOptions } from './sync-deps';
import { syncTenant } from './sync-errors';
import { inProgressError } from './recover-runs';
import { loadMappingState } from './mapping-codec';
import { readNeteaseState } from './netease-state';
import { fanOutPhase, PLAN_DOC, planWarnings, recordWatermarkProblem, releaseRun, requestFollowUp, storeWatermarks, SYNC_LOCK, sweepStaleRuns, WATERMARKS_DOC, type PhaseSpan, type RunSummary } from './run-lifecycle';
import { mapLimit } from '../../lib/map-limit';
import { syncRequestMessage } from '../../contracts/sync-request';
import { isMovedAwayId } from '../../domain/plan/moved-away';
import { driftedObjects, driftSummary } from './drift-summary';
import { prepareMailInput } from './mail-state';

export interface StartSyncInput {
  tenantId: string;
  trigger: RunTrigger;
  /** Default incremental (full when the source has no change feed or no watermark yet). */
  mode?: RunMode;
  dryRun?: boolean;
  /** Link unmapped source objects to existing NetEase objects (full runs only). Default true. */
  adopt?: boolean;
  /** Plan no suspension or deletion (e.g. after an operator rejected them). */
  withholdDeletions?: boolean;
  /**
   * Plan exactly these changes (an incremental run on a `changes` view; `mode` must not be
   * `full`): given as is, or read by the function once the run holds the tenant's lock and
   * exists (so the read sees everything that happened before the run). The view's
   * watermarks are ignored: a caller-made view says nothing about the source's feed.
   */
  changes?: DirectoryChanges | ((ctx: ChangesContext) => Promise<DirectoryChanges>);
  /** The on-demand request this run answers (request-sync-run.ts): recorded on the run. */
  requestId?: string;
}

/** What a `changes` reader gets: the new run and the tenant's source. */
export interface ChangesContext {
  runId: string;
  tenantId: string;
  source: DirectorySource;
}

export interface StartSyncResult {
  run: RunRecord;
  /** The plan as text (summary, safety verdict, first operations): printed by dry runs. */
  planText: string;
}

/** Starts a run; see the module doc. @throws SyncRunInProgressError when the tenant's lock is held. */
export async function startSyncRun(deps: SyncDeps, input: StartSyncInput): Promise<StartSyncResult> {
  const tenant = syncTenant(deps, input.tenantId);
  const opts = syncOptions(deps);
  const { runs, locks, plans, mappings, watermarks } = deps.stores;
  const tenantId = tenant.id;
  const startedAt = deps.clock.now();
  const runId = newRunId(startedAt);
  const log = deps.logger.child({ tenant: tenantId, runId });

  if (input.changes !== undefined && input.mode === 'full') throw new ValidationError('a run with given changes is incremental; do not ask for mode full', { code: 'SYNC.BAD_INPUT' });
  const lock = await locks.acquire(tenantId, SYNC_LOCK, runId, opts.lockTtlMs);
  if (!lock.acquired) throw await inProgressError(deps, tenantId, lock.heldBy?.owner);

  let run: RunRecord | undefined;
  try {
    await sweepStaleRuns(deps, tenantId, runId);
    const source = await deps.directory(tenant);
    const stored = await watermarks.getAll(tenantId, source.kind);
    let state = await loadMappingState(mappings, tenantId, source.kind);
    // A legacy department move still under way (its old unit held by a pseudo department)
    // is finished by a full run: a change feed does not list the people left to move.
    const movePending = state.units.some((u) => u.status === 'active' && isMovedAwayId(u.sourceId));
    const canIncrement = input.mode !== 'full' && !movePending && source.changesSince !== undefined && stored.department !== undefined && stored.person !== undefined;
    const mode: RunMode = canIncrement || (input.changes !== undefined && !movePending) ? 'incremental' : 'full';
    run = await runs.create({ runId, tenantId, source: source.kind, trigger: input.trigger, mode, dryRun: input.dryRun === true, startedAt, ...(input.requestId ? { requestId: input.requestId } : {}) });
    log.info('sync run started', { mode, requested: input.mode ?? 'incremental', trigger: input.trigger, dryRun: input.dryRun === true, ...(input.requestId ? { requestId: input.requestId } : {}) });

    // ---- read the source ---------------------------------------------------------------
    const { view, newWatermarks } = await readSourceView(source, stored, mode, input, { runId, tenantId, source });
    // A changes reader may rewrite mappings (a person renamed in the source: re-read-changes.ts).
    if (typeof input.changes === 'function' && mode === 'incremental') state = await loadMappingState(mappings, tenantId, source.kind);
    await touchRun(deps, tenantId, runId); // progress: the source is read (recover-runs.ts)
    const read = view.kind === 'changes' ? view.changes : view.snapshot;
    const fetched = { departments: read.departments.length, people: read.people.length };

    // ---- mappings and NetEase --------------------------------------------------------------
    // Adoption on every full run, not only the first: a person left unlinked once (an
    // ambiguous match, a failed first run) must never get a second, suffixed mailbox next to
    // the one NetEase already holds for them. Matching links only one-to-one (adoption.ts).
    const adopt = mode === 'full' && (input.adopt ?? true);
    let netease: NeteaseState | undefined;
    let neteaseReads: number | undefined;
    let api: NeteaseDirectory | undefined;
    if (mode === 'full') {
      api = await deps.netease(tenant);
      const r = await readNeteaseState(api, { mappedAccountNames: new Map(state.accounts.map((a) => [a.accountName.toLowerCase(), a.status])), requestsPerSecond: tenant.netease.requestsPerSecond });
      netease = r.state;
      neteaseReads = r.calls;
      await touchRun(deps, tenantId, runId);
    }
    // Mailing lists and aliases (mail-state.ts): reads on full runs only.
    const mail = await prepareMailInput(tenant.sync, state, mode === 'full', async () => (api ??= await deps.netease(tenant)));
    if (mail.calls > 0) neteaseReads = (neteaseReads ?? 0) + mail.calls;

    // ---- plan --------------------------------------------------------------------------------
    const planStarted = Date.now();
    const planWith = (unitMoves: 'reparent' | 'recreate'): SyncPlan =>
      planSync({
        runId,
        now: deps.clock.now(),
        settings: tenant.sync,
        source: view,
        mappings: state,
        ...(netease ? { netease } : {}),
        adopt,
        mailDomain: tenant.netease.domain,
        unitMoves,
        ...(input.withholdDeletions ? { withholdDeletions: true } : {}),
        ...(mail.input ? { mail: mail.input } : {}),
      });
    // Without the open platform's unit/moveUnit a department move re-creates the unit
    // (legacy-moves.ts). An incremental run asks for the API only when its plan moves a unit
    // (callback runs plan without calling NetEase), and then plans once more if it cannot.
    let plan = planWith(api && !api.reparentUnit ? 'recreate' : 'reparent');
    if (!api && plan.operations.some((op) => op.kind === 'unit.move')) {
      api = await deps.netease(tenant);
      if (!api.reparentUnit) plan = planWith('recreate');
    }
    const planMs = Date.now() - planStarted;
    await plans.putDocument(tenantId, runId, PLAN_DOC, plan, opts.resultTtlSeconds);
    if (newWatermarks && Object.keys(newWatermarks).length > 0) await plans.putDocument(tenantId, runId, WATERMARKS_DOC, newWatermarks, opts.resultTtlSeconds);

    const batches = planBatches(plan, opts.batchSize);
    const summary = runSummaryFor(plan, batches, {
      fetched,
      ...(neteaseReads !== undefined ? { neteaseReads } : {}),
      planMs,
      adopt,
      ...(input.withholdDeletions ? { withholdDeletions: true } : {}),
      batchSize: opts.batchSize,
    });
    await runs.increment(tenantId, runId, { fetched: fetched.departments + fetched.people, skipped: plan.summary.totals.skip, drifted: driftedObjects(plan) });
    const planText = formatPlan(plan);
    log.info('sync plan ready', { status: plan.status, operations: plan.summary.operations, apiCalls: plan.summary.apiCalls, phases: plan.summary.phases, planMs });

    // ---- dry run / empty / parked / apply ------------------------------------------------------
    return { run: await settleRun(deps, { tenantId, runId, startedAt, mode, sourceKind: source.kind, log }, input, { plan, batches, summary }), planText };
  } catch (err) {
    if (run) {
      const code = (err as { code?: unknown }).code;
      await runs
        .transition(tenantId, runId, ['planning', 'applying'], 'failed', {
          endedAt: deps.clock.now(),
          error: { code: typeof code === 'string' ? code : 'SYNC.PLANNING_FAILED', message: safeMessage(err) },
        })
        .catch(() => undefined);
    }
    await releaseRun(deps, tenantId, runId).catch(() => undefined);
    log.error('sync run failed before applying', { err });
    throw err;
  }
}

/** Reads what the run plans from: the caller's changes, the source's change feed, or a full snapshot. */
async function readSourceView(
  source: DirectorySource,
  stored: Partial<Record<DirectoryObjectType, { value: string }>>,
  mode: RunMode,
  input: StartSyncInput,
  ctx: ChangesContext,
): Promise<{ view: SourceView; newWatermarks: Partial<Record<DirectoryObjectType, string>> | undefined }> {
  if (input.changes !== undefined && mode === 'incremental') {
    const given = typeof input.changes === 'function' ? await input.changes(ctx) : input.changes;
    return { view: { kind: 'changes', changes: { ...given, watermarks: {} } }, newWatermarks: undefined };
  }
  if (mode === 'incremental') {
    const changes: DirectoryChanges = await source.changesSince!({ department: stored.department!.value, person: stored.person!.value });
    return { view: { kind: 'changes', changes }, newWatermarks: changes.watermarks };
  }
  const snapshot: DirectorySnapshot & { watermarks?: Partial<Record<DirectoryObjectType, string>> } = await source.fullSnapshot();
  return { view: { kind: 'snapshot', snapshot }, newWatermarks: snapshot.watermarks };
}

interface RunContext {
  tenantId: string;
  runId: string;
  startedAt: number;
  mode: RunMode;
  sourceKind: DirectorySource['kind'];
  log: ReturnType<SyncDeps['logger']['child']>;
}

/**
 * Where a planned run goes next: a dry run or an empty plan ends here (releasing the tenant);
 * a parked plan keeps the tenant for the approval window; otherwise phase 0 is sent.
 */
async function settleRun(
  deps: SyncDeps,
  ctx: RunContext,
  input: StartSyncInput,
  planned: { plan: SyncPlan; batches: ReturnType<typeof planBatches>; summary: RunSummary },
): Promise<RunRecord> {
  const { runs, locks, plans } = deps.stores;
  const opts = syncOptions(deps);
  const { tenantId, runId, startedAt, mode, log } = ctx;
  const { plan, batches, summary } = planned;
  let run: RunRecord;
  if (input.dryRun) {
    run = await runs.transition(tenantId, runId, 'planning', 'dry_run', { endedAt: deps.clock.now(), summary });
    await releaseRun(deps, tenantId, runId);
    return run;
  }
  if (plan.status === 'empty') {
    const ended = (status: 'success' | 'warning', watermarksAdvanced: boolean) => ({
      summary: { ...summary, outcome: { status, applied: 0, failed: 0, blocked: 0, durationMs: deps.clock.now() - startedAt, watermarksAdvanced } },
    });
    // Nothing to apply, but a known problem left in place (quarantine, report-mode drift, a misplaced unit) is a warning.
    const status = planWarnings(summary).length > 0 ? 'warning' : 'success';
    run = await runs.transition(tenantId, runId, 'planning', status, { endedAt: deps.clock.now(), ...ended(status, true) });
    // A watermark the store refuses must not fail the run or keep the lock (finalizeRun's rule).
    const problem = await storeWatermarks(deps, tenantId, ctx.sourceKind, runId);
    if (problem) run = await recordWatermarkProblem(deps, run, problem, () => ended('warning', false));
    await releaseRun(deps, tenantId, runId);
    log.info('sync run finished: nothing to do', { fetched: summary.fetched });
    return run;
  }
  // Batches are stored before any status that lets them be sent (applying, or approval).
  await mapLimit(batches, 8, (b, seq) => plans.putBatch(tenantId, runId, seq, { phase: b.phase, operations: b.operations }, opts.resultTtlSeconds), { onError: 'finish' });
  if (plan.status === 'awaitingApproval') {
    // The parked run keeps the tenant: applying an approved plan after another run
    // changed the mappings would apply stale operations. After the window it expires.
    await locks.renew(tenantId, SYNC_LOCK, runId, opts.approvalTtlMs);
    run = await runs.transition(tenantId, runId, 'planning', 'awaiting_approval', { summary });
    log.warn('sync run parked for approval', { reasons: summary.approval?.reasons, destructive: summary.approval?.destructiveCount });
    return run;
  }
  // An incremental run that starts a legacy department move cannot finish it (a change feed
  // does not list the people left to move: legacy-moves.ts). Ask for the full run that does
  // as this run releases the tenant, rather than wait a schedule period.
  if (mode === 'incremental' && plan.operations.some((op) => op.kind === 'unit.link' && isMovedAwayId(op.sourceId))) {
    await requestFollowUp(deps, tenantId, runId, {
      queue: 'plan',
      body: syncRequestMessage({ requestId: `move-${runId}`, tenantId, mode: 'full', dryRun: false, trigger: input.trigger, requestedAt: deps.clock.now() }),
    });
    log.info('legacy department move started: a full run will finish it when this run ends');
  }
  // Announce every batch (pendingBatches) before sending any (RunStore.completeBatch contract).
  run = await runs.transition(tenantId, runId, 'planning', 'applying', { totalBatches: batches.length, summary });
  await fanOutPhase(deps, tenantId, runId, 0);
  return (await runs.get(tenantId, runId)) ?? run;
}

/** The run's summary of its plan: counts, notes per code, phases as batch spans, the safety verdict. */
function runSummaryFor(
  plan: SyncPlan,
  batches: ReturnType<typeof planBatches>,
  extras: Pick<RunSummary, 'fetched' | 'neteaseReads' | 'planMs' | 'adopt' | 'withholdDeletions' | 'batchSize'>,
): RunSummary {
  const phases: PhaseSpan[] = [];
  batches.forEach((b, seq) => {
    const last = phases.at(-1);
    if (last && last.phase === b.phase) last.count++;
    else phases.push({ phase: b.phase, first: seq, count: 1 });
  });
  const notes: Record<string, number> = {};
  for (const n of plan.report.notes) notes[n.code] = (notes[n.code] ?? 0) + 1;
  return {
    plan: plan.summary,
    planMode: plan.mode,
    planStatus: plan.status,
    deletions: plan.report.deletions,
    notes,
    ...(plan.report.unmatchedNetease ? { unmatchedNetease: { accounts: plan.report.unmatchedNetease.accounts.length, units: plan.report.unmatchedNetease.units.length } } : {}),
    fetched: extras.fetched,
    ...(extras.neteaseReads !== undefined ? { neteaseReads: extras.neteaseReads } : {}),
    planMs: extras.planMs,
    adopt: extras.adopt,
    ...(extras.withholdDeletions ? { withholdDeletions: true } : {}),
    batchSize: extras.batchSize,
    ...driftSummary(plan),
    totalBatches: batches.length,
    phases,
    ...(plan.approval
      ? { approval: { reasons: plan.approval.reasons.map(describeParkReason), destructiveCount: plan.approval.destructive.length, destructive: plan.approval.destructive.slice(0, 100) } }
      : {}),
  };
}

/** Stamp progress on a planning run (its updatedAt), so the recovery does not take a live planner for dead. */
async function touchRun(deps: SyncDeps, tenantId: string, runId: string): Promise<void> {
  await deps.stores.runs.update(tenantId, runId, {});
}

/** Error messages of our adapters name operations and codes only; cap the length anyway. */
function safeMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 500 ? `${m.slice(0, 500)}...` : m;
}
