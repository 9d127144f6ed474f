/**
 * Stage 5d, drift records: for every account whose mapping disagreed with NetEase
 * (reconcile.ts, repair mode), an `account.link` with `drift: true` (no API call) writes
 * NetEase's truth to the mapping before the repair operations of that person run (they
 * depend on the link: order.ts). A repair that then fails leaves a mapping that matches
 * NetEase, and an account that needs no repair at all stops being reported as drift.
 */
import type { AccountMapping } from '../sync-plan';
import type { OpDrafts } from './diff';

export function recordDrift(records: ReadonlyMap<string, AccountMapping>, ops: OpDrafts): void {
  for (const [id, m] of [...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (ops.opAt(`account.link:${id}`) !== undefined) continue;
    ops.add({ kind: 'account.link', sourceId: id, accountName: m.accountName, matchedBy: 'accountName', profileHash: m.profileHash, unitId: m.unitId, status: m.status, drift: true });
  }
}
