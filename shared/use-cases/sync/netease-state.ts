/**
 * What NetEase holds now, in the planner's terms (NeteaseState), read on full runs for
 * adoption and so the planner never picks a name an unmanaged unit or mailbox holds.
 *
 * Reads (reference netease-qiye-api.md §2): unit/getUnitList (one call, flat list) and
 * unit/getAccountList for the whole domain (2000 per page). getAccountList rows carry no
 * unit and no status, so:
 * - when some listed mailbox is not mapped to a source person (the only ones the planner
 *   looks at: adoption candidates, names it must not take, units it must not delete), the
 *   accounts are listed once more unit by unit (non-recursive) to learn each one's unit;
 *   accounts found in no unit are in the default unit. Steady-state reconciles of a tenant
 *   whose every mailbox is mapped skip this (one call per unit);
 * - soft-deleted accounts are not listed at all, and suspended ones cannot be told from
 *   active ones: every listed account is reported `active`. An adopted mailbox that is in
 *   fact suspended is therefore linked as active and not recovered by the bridge (logged
 *   as a known limit; an admin sees it suspended in NetEase). getAccount per account
 *   would answer, at one call per mailbox; we chose not to spend that on every full run.
 */
import type { NeteaseAccountRecord, NeteaseState, NeteaseUnitRecord } from '../../domain/sync-plan';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import { mapLimit } from '../../lib/map-limit';

export interface ReadNeteaseStateOptions {
  /** Account names (lowercase) the bridge maps already: no unit lookup is needed for them. */
  mappedAccountNames: ReadonlySet<string>;
  /** Unit listings in flight at once (the client's rate limiter still paces them). */
  concurrency?: number;
}

export interface NeteaseStateRead {
  state: NeteaseState;
  /** API calls made (for the run log). */
  calls: number;
}

export async function readNeteaseState(api: NeteaseDirectory, options: ReadNeteaseStateOptions): Promise<NeteaseStateRead> {
  let calls = 1;
  const units: NeteaseUnitRecord[] = (await api.getUnitList()).map((u) => {
    const r: NeteaseUnitRecord = { unitId: u.unitId, name: u.unitName };
    if (u.parentId !== undefined && u.parentId !== '') r.parentId = u.parentId;
    return r;
  });
  const listed = await api.getAllAccounts();
  calls += Math.max(1, Math.ceil(listed.length / 2000));
  const accounts: NeteaseAccountRecord[] = listed.map((a) => {
    const r: NeteaseAccountRecord = { accountName: a.accountName, status: 'active' };
    if (a.nickname !== undefined) r.nickname = a.nickname;
    if (a.mobile !== undefined) r.mobile = a.mobile;
    if (a.jobNo !== undefined) r.jobNo = a.jobNo;
    return r;
  });
  const unmanaged = accounts.filter((a) => !options.mappedAccountNames.has(a.accountName.toLowerCase()));
  if (unmanaged.length > 0 && units.length > 0) {
    const unitOf = new Map<string, string>();
    await mapLimit(units, options.concurrency ?? 4, async (u) => {
      const members = await api.getAllAccounts({ unitId: u.unitId });
      calls += Math.max(1, Math.ceil(members.length / 2000));
      for (const m of members) unitOf.set(m.accountName.toLowerCase(), u.unitId);
    }, { onError: 'finish' });
    for (const a of accounts) {
      const unitId = unitOf.get(a.accountName.toLowerCase());
      if (unitId !== undefined) a.unitId = unitId;
    }
  }
  return { state: { units, accounts }, calls };
}
