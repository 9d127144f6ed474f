/**
 * Drift in a run's record: how many objects NetEase held differently from the mapping
 * (`counts.drifted`, at planning), how many of them the run repaired (`counts.repaired`, at
 * the end: drifted objects with no failed or blocked operation), and the small lists the
 * run summary keeps for `runs show` (the plan document keeps every item).
 */
import type { DirectoryObjectType } from '../../domain/directory';
import type { DriftItem, SyncPlan, UnresolvedItem } from '../../domain/sync-plan';
import type { SyncDeps } from './sync-deps';

/** The run summary's drift part (RunSummary in run-lifecycle.ts carries it). */
export interface RunDrift {
  /** Drift found by a full run (the first 200 objects; the plan document lists all). */
  drift?: { objects: number; repair: 'planned' | 'reported'; items: DriftItem[] };
  /** Known problems the run leaves in place (report-mode drift, misplaced units): the run ends warning. */
  unresolved?: { count: number; items: UnresolvedItem[] };
}

/** Items kept in the run summary (the record stays well under its 64 KB). */
export const SUMMARY_DRIFT_ITEMS = 200;

const key = (type: string, sourceId: string) => `${type}:${sourceId}`;

/** Distinct objects (department or person) with at least one drift item. */
export function driftedObjects(plan: SyncPlan): number {
  return new Set((plan.report.drift ?? []).map((d) => key(d.type, d.sourceId))).size;
}

export function driftSummary(plan: SyncPlan): RunDrift {
  const drift = plan.report.drift ?? [];
  const unresolved = plan.report.unresolved ?? [];
  return {
    ...(drift.length > 0 ? { drift: { objects: driftedObjects(plan), repair: drift[0]!.repair, items: drift.slice(0, SUMMARY_DRIFT_ITEMS) } } : {}),
    ...(unresolved.length > 0 ? { unresolved: { count: unresolved.length, items: unresolved.slice(0, SUMMARY_DRIFT_ITEMS) } } : {}),
  };
}

/**
 * Drifted objects whose operations all applied in this run. Reads the run's failed and
 * skipped (blocked) results; the drift list is the summary's when it holds every item,
 * else the plan document's.
 */
export async function repairedObjects(deps: Pick<SyncDeps, 'stores'>, tenantId: string, runId: string, summary: RunDrift): Promise<number> {
  const { runs, plans } = deps.stores;
  let items = summary.drift?.items ?? [];
  if ((summary.drift?.objects ?? 0) > 0 && items.length >= SUMMARY_DRIFT_ITEMS) {
    const plan = (await plans.getDocument(tenantId, runId, 'plan')) as SyncPlan | undefined;
    items = plan?.report.drift ?? items;
  }
  const drifted = new Set(items.map((d) => key(d.type, d.sourceId)));
  const unrepaired = new Set<string>();
  for (const outcome of ['failed', 'skipped'] as const) {
    let cursor: string | undefined;
    do {
      const page = await runs.listResults(tenantId, runId, { outcome, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const r of page.items) {
        const k = key(r.objectType satisfies DirectoryObjectType, r.sourceId);
        if (drifted.has(k)) unrepaired.add(k);
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return drifted.size - unrepaired.size;
}
