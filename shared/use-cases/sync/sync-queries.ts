/**
 * What operators read and correct: runs and their results (`runs list`, `runs show`,
 * the CSV error log), mappings, `explain` for one source object, clearing the watermark
 * (forces the next run to be full), and the CSV link import.
 */
import type { Department, DirectoryObjectType, Person } from '../../domain/directory';
import { neteaseViewOf, type NeteaseView } from './explain-netease';
import { explain, type Explanation } from '../../domain/plan-report';
import { neteaseProfile, profileHash } from '../../domain/account-profile';
import { isDefaultUnitId } from '../../domain/plan-sync';
import type { AccountMapping, DestructiveItem, ObjectNote, SyncPlan, UnitMapping } from '../../domain/sync-plan';
import { DEFAULT_UNIT_ID } from '../../domain/sync-plan';
import { isNeteaseError } from '../../errors/netease-failure';
import { NotFoundError, ValidationError } from '../../errors/app-error';
import type { MappingRecord } from '../../ports/mapping-store';
import type { ObjectResult, RunRecord } from '../../ports/run-store';
import { OBJECT_TYPES, type Page } from '../../ports/store-common';
import type { SyncDeps } from './sync-deps';
import { syncOptions } from './sync-deps';
import { SyncRunInProgressError, SyncRunStateError, syncTenant } from './sync-errors';
import { accountToWrite, recordToAccount, recordToUnit, unitToWrite } from './mapping-codec';
import { PLAN_DOC, releaseRun, runSummaryOf, SYNC_LOCK } from './run-lifecycle';
import { csvLine } from './sync-util';
import { runProgress, type RunProgress } from './recover-runs';

// ---- runs ----------------------------------------------------------------------------------

/** Planner notes about bad source data, listed by `runs show` (the plan document has every note). */
const DATA_NOTES = ['departmentQuarantined', 'nameCleaned', 'mobileDropped', 'departmentMissing'] as const;

export async function listRuns(deps: SyncDeps, tenantId: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<RunRecord>> {
  syncTenant(deps, tenantId);
  return deps.stores.runs.list(tenantId, { limit: options.limit ?? 20, ...(options.cursor ? { cursor: options.cursor } : {}) });
}

export interface RunDetail {
  run: RunRecord;
  /** Failed and blocked objects (first `detailErrorLimit`). */
  errors: ObjectResult[];
  errorsTruncated: boolean;
  /** For a parked run: everything it would suspend or delete. */
  destructive?: DestructiveItem[];
  /** Problems of the source data the run worked around (quarantined departments, cleaned names, dropped mobiles, missing departments): first `detailErrorLimit`. */
  dataNotes?: ObjectNote[];
  dataNotesTruncated?: boolean;
  /** Where the run stands: last progress, the phase in flight, stuck or not, when the lock frees (recover-runs.ts). */
  progress: RunProgress;
}

export async function getRunDetail(deps: SyncDeps, tenantId: string, runId: string): Promise<RunDetail> {
  syncTenant(deps, tenantId);
  const { runs, plans } = deps.stores;
  const run = await runs.get(tenantId, runId);
  if (!run) throw new NotFoundError(`run ${runId} not found for tenant ${tenantId}`, { code: 'SYNC.RUN_NOT_FOUND' });
  const limit = syncOptions(deps).detailErrorLimit;
  const errors: ObjectResult[] = [];
  let truncated = false;
  outer: for (const outcome of ['failed', 'skipped'] as const) {
    for await (const r of runs.results(tenantId, runId, { outcome })) {
      if (errors.length >= limit) {
        truncated = true;
        break outer;
      }
      errors.push(r);
    }
  }
  const lease = await deps.stores.locks.get(tenantId, SYNC_LOCK);
  const detail: RunDetail = { run, errors, errorsTruncated: truncated, progress: runProgress(run, lease, deps.clock.now(), syncOptions(deps).stuckAfterMs) };
  const noted = runSummaryOf(run)?.notes ?? {};
  const wantsNotes = DATA_NOTES.some((c) => (noted[c] ?? 0) > 0);
  if (run.status === 'awaiting_approval' || wantsNotes) {
    const plan = (await plans.getDocument(tenantId, runId, PLAN_DOC)) as SyncPlan | undefined;
    if (plan?.approval && run.status === 'awaiting_approval') detail.destructive = plan.approval.destructive;
    if (plan && wantsNotes) {
      const all = plan.report.notes.filter((n) => (DATA_NOTES as readonly string[]).includes(n.code));
      detail.dataNotes = all.slice(0, limit);
      if (all.length > limit) detail.dataNotesTruncated = true;
    }
  }
  return detail;
}

export const RESULTS_CSV_HEADER = ['objectType', 'sourceId', 'operation', 'outcome', 'errorCode', 'message', 'neteaseId', 'at'];

/** Every per-object result of a run as CSV lines (header first): the downloadable run log. */
export async function* runResultsCsv(deps: SyncDeps, tenantId: string, runId: string): AsyncGenerator<string> {
  syncTenant(deps, tenantId);
  if (!(await deps.stores.runs.get(tenantId, runId))) throw new NotFoundError(`run ${runId} not found for tenant ${tenantId}`, { code: 'SYNC.RUN_NOT_FOUND' });
  yield csvLine(RESULTS_CSV_HEADER);
  for await (const r of deps.stores.runs.results(tenantId, runId)) {
    yield csvLine([r.objectType, r.sourceId, r.operation, r.outcome, r.errorCode, r.message, r.neteaseId, new Date(r.at).toISOString()]);
  }
}

// ---- mappings -----------------------------------------------------------------------------

export interface MappingView {
  type: DirectoryObjectType;
  sourceId: string;
  neteaseId: string;
  status: MappingRecord['status'];
  adopted: boolean;
  /** Unit name (departments) or the account's unit id (people). */
  name?: string;
  unitId?: string;
  parentUnitId?: string;
  suspendedAt?: number;
  /** The policy rule last applied to the mailbox (sync.policies), and the display rank last set. */
  policyRule?: string;
  rank?: number;
  /** Departments: the address of its mailing list (plan/maillists.ts). */
  mailList?: string;
  /** People: the aliases the bridge added (plan/aliases.ts). */
  aliases?: string[];
  lastRunId: string;
  updatedAt: number;
}

export function mappingView(r: MappingRecord): MappingView {
  const v: MappingView = { type: r.objectType, sourceId: r.sourceId, neteaseId: r.neteaseId, status: r.status, adopted: r.adopted === true, lastRunId: r.lastRunId, updatedAt: r.updatedAt };
  if (r.objectType === 'department') {
    const u = recordToUnit(r);
    v.name = u.name;
    if (u.parentUnitId !== undefined) v.parentUnitId = u.parentUnitId;
    if (u.mailList) v.mailList = u.mailList.name;
  } else {
    const a = recordToAccount(r);
    v.unitId = a.unitId;
    if (a.suspendedAt !== undefined) v.suspendedAt = a.suspendedAt;
    if (a.policyRule !== undefined) v.policyRule = a.policyRule;
    if (a.rank !== undefined) v.rank = a.rank;
    if (a.aliases && a.aliases.length > 0) v.aliases = a.aliases;
  }
  return v;
}

export async function listMappings(deps: SyncDeps, tenantId: string, type: DirectoryObjectType, options: { limit?: number; cursor?: string } = {}): Promise<Page<MappingView>> {
  const tenant = syncTenant(deps, tenantId);
  if (!OBJECT_TYPES.includes(type)) throw new ValidationError('type must be person or department');
  const page = await deps.stores.mappings.listPage(tenantId, tenant.sync.source, type, { limit: options.limit ?? 100, ...(options.cursor ? { cursor: options.cursor } : {}) });
  return { items: page.items.map(mappingView), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

// ---- explain ------------------------------------------------------------------------------

export interface ObjectExplanation {
  sourceId: string;
  type?: DirectoryObjectType;
  /** The object as the source has it now; undefined when the source no longer has it. */
  source?: { record?: Department | Person; read: 'lookup' | 'snapshot' | 'skipped' | 'failed'; error?: string };
  mapping?: MappingView;
  /** The plan decision of the latest run that planned this object (or the latest plan). */
  decision?: Explanation & { runId: string; runStatus: RunRecord['status'] };
  /** NetEase calls made for it, newest run first. */
  history: ObjectResult[];
  /** What NetEase really holds for the mapped object, read now (explain-netease.ts). */
  netease?: NeteaseView;
}

/**
 * Everything known about one source object: the source record, its mapping, the plan
 * decision of the most recent run that had one for it, and its API results. A source with
 * a lookup (DingTalk, WeCom) is asked for the one object; EKP has none (its feed cannot look
 * up by id), so its whole snapshot is read unless `readSource` is false.
 */
export async function explainObject(deps: SyncDeps, tenantId: string, sourceId: string, options: { type?: DirectoryObjectType; readSource?: boolean; readNetease?: boolean } = {}): Promise<ObjectExplanation> {
  const tenant = syncTenant(deps, tenantId);
  if (typeof sourceId !== 'string' || sourceId === '' || sourceId.length > 160) throw new ValidationError('a source object id is required');
  if (options.type !== undefined && !OBJECT_TYPES.includes(options.type)) throw new ValidationError('type must be person or department');
  const { mappings, runs, plans } = deps.stores;
  const types: DirectoryObjectType[] = options.type ? [options.type] : ['person', 'department'];
  const out: ObjectExplanation = { sourceId, history: [] };

  for (const t of types) {
    const m = await mappings.get({ tenantId, source: tenant.sync.source, objectType: t, sourceId });
    if (m) {
      out.mapping = mappingView(m);
      out.type = t;
      break;
    }
  }
  // Decision: the newest stored plan that mentions the object, else the newest plan.
  const recent = (await runs.list(tenantId, { limit: 10 })).items;
  let fallback: ObjectExplanation['decision'];
  for (const r of recent) {
    const plan = (await plans.getDocument(tenantId, r.runId, PLAN_DOC)) as SyncPlan | undefined;
    if (!plan) continue;
    const e = explain(plan, sourceId, out.type);
    const d = { ...e, runId: r.runId, runStatus: r.status };
    if (e.operations.length > 0 || e.notes.length > 0) {
      out.decision = d;
      break;
    }
    fallback ??= d;
  }
  out.decision ??= fallback;
  out.type ??= out.decision?.type;

  for (const t of out.type ? [out.type] : types) {
    const h = await runs.objectHistory(tenantId, t, sourceId, { limit: 20 });
    if (h.length > 0) {
      out.history = h;
      out.type ??= t;
      break;
    }
  }

  if (options.readSource !== false) {
    try {
      const source = await deps.directory(tenant);
      if (source.getPerson && source.getDepartment) {
        const record = out.type === 'department' ? await source.getDepartment(sourceId) : ((await source.getPerson(sourceId)) ?? (out.type ? undefined : await source.getDepartment(sourceId)));
        out.source = { read: 'lookup', ...(record ? { record } : {}) };
      } else {
        const snap = await source.fullSnapshot();
        const record = out.type === 'department' ? snap.departments.find((d) => d.id === sourceId) : (snap.people.find((p) => p.id === sourceId) ?? (out.type ? undefined : snap.departments.find((d) => d.id === sourceId)));
        out.source = { read: 'snapshot', ...(record ? { record } : {}) };
      }
    } catch (err) {
      out.source = { read: 'failed', error: (err as { code?: string }).code ?? 'SOURCE.READ_FAILED' };
    }
  } else out.source = { read: 'skipped' };
  if (out.mapping) {
    if (options.readNetease === false) out.netease = { read: 'skipped', differences: [] };
    else {
      const api = await deps.netease(tenant).catch(() => undefined);
      out.netease = api ? await neteaseViewOf(api, out.mapping) : { read: 'failed', differences: [], error: 'NETEASE.UNAVAILABLE' };
    }
  }
  return out;
}

// ---- watermarks -----------------------------------------------------------------------------

/** Forget the tenant's watermarks: the next run is a full one (mappings are kept). @returns how many existed. */
export async function clearWatermarks(deps: SyncDeps, tenantId: string): Promise<number> {
  const tenant = syncTenant(deps, tenantId);
  const n = await deps.stores.watermarks.clear(tenantId, tenant.sync.source);
  deps.logger.info('sync watermarks cleared', { tenant: tenantId, cleared: n });
  return n;
}

// ---- link import ------------------------------------------------------------------------------

export interface LinkRow {
  sourceId: string;
  type: DirectoryObjectType;
  neteaseId: string;
}

export interface ImportResult {
  linked: number;
  /** Rows that already said exactly this. */
  unchanged: number;
  replaced: number;
}

export class LinkImportError extends ValidationError {
  constructor(readonly problems: string[]) {
    super(`the link file has ${problems.length} problem(s); nothing was written:\n${problems.slice(0, 50).map((p) => `  - ${p}`).join('\n')}`, { code: 'SYNC.IMPORT_INVALID', details: { problems: problems.slice(0, 200) } });
  }
}

const MAX_IMPORT_ROWS = 20_000;

/** How long the import's hold on the tenant's lock lasts between renewals. */
const IMPORT_LOCK_TTL_MS = 10 * 60_000;
/** Renew the lock when this much of its lease has passed (NetEase reads are paced: 20,000 rows take minutes). */
const IMPORT_LOCK_RENEW_MS = 60_000;

/**
 * An admin links (or re-links) source objects to existing NetEase objects: rows of
 * sourceId,type,neteaseId. Every row is checked first (shape, duplicates, the NetEase
 * object exists, it is not linked to another source object unless that link is replaced in
 * the same file); any problem refuses the whole file and writes nothing. The import holds
 * the tenant's sync lock from the checks to the last write (renewed as it goes), so no run
 * plans or applies against half-imported links.
 *
 * The writes are single-item (no transactions: store-common.ts), ordered so that every
 * intermediate state is one planSync accepts, i.e. no NetEase object is ever linked from two
 * source objects (a swap A->b, B->a written row by row would pass through A->b, B->b):
 * 1. release: every row whose source object is linked to another NetEase object drops that
 *    link, and so do tombstones (`deleted` mappings) of other objects holding a target
 *    account name. Every live holder of a target is itself a row of the file (checked
 *    above), so after this step nobody holds what the file hands out;
 * 2. take: each row's link is written.
 * An import interrupted part-way (a crash, a lost lock) leaves some source objects without
 * a link, never a conflict; running the same file again resumes it (what was released reads
 * as "not linked", what was taken as unchanged). A source object left unlinked meanwhile is
 * matched again by the next full run's adoption, as before it was ever linked.
 */
export async function importMappings(deps: SyncDeps, tenantId: string, rows: readonly LinkRow[], by: string): Promise<ImportResult> {
  const tenant = syncTenant(deps, tenantId);
  const source = tenant.sync.source;
  const problems: string[] = [];
  if (!Array.isArray(rows) || rows.length === 0) throw new LinkImportError(['the file has no rows']);
  if (rows.length > MAX_IMPORT_ROWS) throw new LinkImportError([`at most ${MAX_IMPORT_ROWS} rows per import`]);
  const seenSource = new Set<string>();
  const seenNetease = new Set<string>();
  rows.forEach((r, i) => {
    const at = `row ${i + 1}`;
    if (!r || typeof r !== 'object') return problems.push(`${at}: not a row`);
    if (typeof r.sourceId !== 'string' || r.sourceId.trim() === '' || r.sourceId.length > 160 || /[\u0000-\u001f]/.test(r.sourceId)) problems.push(`${at}: sourceId is missing or invalid`);
    if (r.type !== 'person' && r.type !== 'department') problems.push(`${at}: type must be person or department`);
    if (typeof r.neteaseId !== 'string' || r.neteaseId.trim() === '' || r.neteaseId.length > 160) problems.push(`${at}: neteaseId is missing or invalid`);
    else if (r.type === 'person' && (r.neteaseId.includes('@') || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(r.neteaseId))) problems.push(`${at}: neteaseId must be an account name (local part, no @domain)`);
    const sk = `${r.type}\u0000${r.sourceId}`;
    const nk = `${r.type}\u0000${r.type === 'person' ? String(r.neteaseId).toLowerCase() : r.neteaseId}`;
    if (seenSource.has(sk)) problems.push(`${at}: ${r.type} ${r.sourceId} appears twice`);
    if (seenNetease.has(nk)) problems.push(`${at}: ${r.neteaseId} is linked twice`);
    seenSource.add(sk);
    seenNetease.add(nk);
    return undefined;
  });
  if (problems.length > 0) throw new LinkImportError(problems);

  const owner = `import-${deps.clock.now()}`;
  const lock = await deps.stores.locks.acquire(tenantId, SYNC_LOCK, owner, IMPORT_LOCK_TTL_MS);
  if (!lock.acquired) throw new SyncRunInProgressError(tenantId, lock.heldBy?.owner);
  let renewedAt = deps.clock.now();
  /** Keep the tenant; stop before the next read or write if the lease was lost (a run may have started). */
  const keepLock = async (): Promise<void> => {
    if (deps.clock.now() - renewedAt < IMPORT_LOCK_RENEW_MS) return;
    if (!(await deps.stores.locks.renew(tenantId, SYNC_LOCK, owner, IMPORT_LOCK_TTL_MS))) {
      throw new SyncRunStateError(`the link import lost the tenant's lock (${owner}); links written so far are consistent: import the same file again`, { owner });
    }
    renewedAt = deps.clock.now();
  };
  try {
    const api = await deps.netease(tenant);
    const units = new Map((await api.getUnitList()).map((u) => [u.unitId, u]));
    const importedSource = new Set(rows.map((r) => `${r.type}\u0000${r.sourceId}`));
    const writes: Array<{ row: LinkRow; write: ReturnType<typeof unitToWrite>; current?: MappingRecord }> = [];
    const ctx = { tenantId, source, runId: owner };
    /** Tombstones of other source objects holding a target account name (planSync counts them). */
    const tombstones = new Map<string, MappingRecord>();
    for (const [i, row] of rows.entries()) {
      await keepLock();
      const at = `row ${i + 1} (${row.type} ${row.sourceId})`;
      const others = (await deps.stores.mappings.findByNeteaseId(tenantId, row.type, row.neteaseId, source)).filter((h) => h.sourceId !== row.sourceId);
      const holders = others.filter((h) => h.status !== 'deleted' && !importedSource.has(`${h.objectType}\u0000${h.sourceId}`));
      if (holders.length > 0) problems.push(`${at}: ${row.neteaseId} is already linked to ${row.type} ${holders.map((h) => h.sourceId).join(', ')}`);
      for (const h of others) if (h.objectType === 'person' && h.status === 'deleted' && !importedSource.has(`person\u0000${h.sourceId}`)) tombstones.set(h.sourceId, h);
      const current = await deps.stores.mappings.get({ tenantId, source, objectType: row.type, sourceId: row.sourceId });
      if (row.type === 'department') {
        const unit = units.get(row.neteaseId);
        if (!unit) {
          problems.push(`${at}: NetEase has no unit ${row.neteaseId}`);
          continue;
        }
        const m: UnitMapping = { sourceId: row.sourceId, unitId: unit.unitId, name: unit.unitName, sourceName: unit.unitName, status: 'active' };
        if (unit.parentId) {
          m.parentUnitId = unit.parentId;
          const parent = [...(await deps.stores.mappings.findByNeteaseId(tenantId, 'department', unit.parentId, source))].find((p) => p.status !== 'deleted');
          if (parent) m.parentSourceId = parent.sourceId;
        }
        writes.push({ row, write: unitToWrite(ctx, m, true), ...(current ? { current } : {}) });
      } else {
        let account;
        try {
          account = await api.getAccount(row.neteaseId);
        } catch (err) {
          if (isNeteaseError(err, 'notFound')) {
            problems.push(`${at}: NetEase has no account ${row.neteaseId}`);
            continue;
          }
          throw err;
        }
        const status = account.status === 'suspended' ? 'suspended' : account.status === 'deleted' ? 'deleted' : 'active';
        const m: AccountMapping = {
          sourceId: row.sourceId,
          accountName: account.accountName.toLowerCase(),
          profileHash: profileHash(neteaseProfile({ accountName: account.accountName, status, ...(account.nickname ? { nickname: account.nickname } : {}), ...(account.mobile ? { mobile: account.mobile } : {}), ...(account.jobNo ? { jobNo: account.jobNo } : {}) })),
          unitId: isDefaultUnitId(account.unitId) ? DEFAULT_UNIT_ID : account.unitId!,
          status,
        };
        if (status === 'suspended') m.suspendedAt = deps.clock.now();
        if (status === 'deleted') m.deletedAt = deps.clock.now();
        writes.push({ row, write: accountToWrite(ctx, m, true), ...(current ? { current } : {}) });
      }
    }
    if (problems.length > 0) throw new LinkImportError(problems);

    const result: ImportResult = { linked: 0, unchanged: 0, replaced: 0 };
    const sameTarget = (w: (typeof writes)[number]) => w.current !== undefined && w.current.status !== 'deleted' && w.current.neteaseId.toLowerCase() === w.write.neteaseId.toLowerCase();
    // 1. release (see the doc): links to other NetEase objects, and tombstones on a target.
    for (const w of writes) {
      if (!w.current || sameTarget(w)) continue;
      await keepLock();
      await deps.stores.mappings.delete({ tenantId, source, objectType: w.row.type, sourceId: w.row.sourceId }, { expected: { version: w.current.version } });
    }
    for (const t of tombstones.values()) {
      await keepLock();
      await deps.stores.mappings.delete({ tenantId, source, objectType: t.objectType, sourceId: t.sourceId }, { expected: { version: t.version } });
    }
    // 2. take.
    for (const w of writes) {
      const inPlace = sameTarget(w);
      if (inPlace && w.current!.status === w.write.status && w.current!.contentHash === w.write.contentHash) {
        result.unchanged++;
        continue;
      }
      await keepLock();
      await deps.stores.mappings.put(w.write, { expected: { version: inPlace ? w.current!.version : 0 } });
      if (w.current) result.replaced++;
      else result.linked++;
    }
    deps.logger.info('sync links imported', { tenant: tenantId, by, ...result, tombstonesReleased: tombstones.size });
    return result;
  } finally {
    await releaseRun(deps, tenantId, owner).catch(() => undefined);
  }
}
