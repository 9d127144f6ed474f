/**
 * What NetEase holds now, in the planner's terms (NeteaseState), read on full runs for
 * adoption, for names the planner must not take, and to reconcile the mapping with
 * NetEase's real state (drift: shared/domain/plan/reconcile.ts).
 *
 * Reads (reference netease-qiye-api.md §2): unit/getUnitList (one call, flat list) and
 * unit/getAccountList for the whole domain (2000 per page). getAccountList rows carry no
 * unit and no status, and soft-deleted accounts are not listed, so:
 * - every MAPPED account is read with account/getAccount (status 0/1/2, unit_id, nickname,
 *   mobile, job_no), except one we mapped as deleted that the list does not show either
 *   (nothing to compare). That is one call per mapped mailbox, paced by the client's rate
 *   limiter (`netease.requestsPerSecond`) and run `concurrency` at a time (readConcurrency): the price of
 *   finding a mailbox an admin suspended, deleted, renamed or moved in NetEase's console.
 *   A mapped account getAccount does not know (notFound) is absent: purged after its 7-day
 *   recovery window, or never created. The state is then `reconcilable`.
 * - with the open platform configured (`listAccountsWithStatus`), its unit/getAccountList
 *   gives every mailbox's status and unit (§4) in pages of 1,000, and only a mapped mailbox
 *   it does not list is read with getAccount (see readWithStatusList).
 * - when some listed mailbox is not mapped (adoption candidates, names the planner must not
 *   take, units it must not delete), the accounts are listed once more unit by unit
 *   (non-recursive) to learn each one's unit; accounts found in no unit are in the default
 *   unit. An unmapped account's status stays unknown and is reported `active`.
 * Cost of a full run with N mapped accounts, U units, L listed accounts: legacy 1 +
 * ceil(L/2000) + N (+ U when unmapped mailboxes exist) reads; open platform 1 +
 * ceil(L/1000) + the mapped mailboxes it does not list.
 */
import type { AccountStatus, NeteaseAccountRecord, NeteaseState, NeteaseUnitRecord } from '../../domain/sync-plan';
import { isNeteaseError } from '../../errors/netease-failure';
import type { NeteaseDirectory } from '../../ports/netease-directory';
import { mapLimit } from '../../lib/map-limit';

/**
 * getAccount calls in flight at once (the client's limiter paces them at the tenant's rate).
 * Enough in flight to keep the rate busy at loopback-to-NetEase latencies: the bench
 * (`BENCH_SYNC_ONLY=drift npm run bench -- sync`, 200 req/s) measured about 68 ms per call
 * with simulator, proxy and client in one process, so a fixed 8 in flight reached only
 * ~118 calls/s (2.06 x the rate bound). rate / 8, i.e. 125 ms of calls in flight, bounded to
 * 8..32 (32 timed out calls on a machine at load 20, where one process held all three).
 */
export function readConcurrency(requestsPerSecond: number | undefined): number {
  if (requestsPerSecond === undefined || !Number.isFinite(requestsPerSecond)) return 8;
  return Math.min(32, Math.max(8, Math.ceil(requestsPerSecond / 8)));
}

/** Rows per page of the open platform's account list (its client's page size). */
const OPEN_ACCOUNT_PAGE_SIZE = 1000;

export interface ReadNeteaseStateOptions {
  /** Account names (lowercase) the bridge maps already, with the status it last recorded: each is read with getAccount. */
  mappedAccountNames: ReadonlyMap<string, AccountStatus> | ReadonlySet<string>;
  /** Reads in flight at once (the client's rate limiter still paces them); default from `requestsPerSecond`. */
  concurrency?: number;
  /** The tenant's NetEase rate (`netease.requestsPerSecond`), for the default concurrency. */
  requestsPerSecond?: number;
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
  const concurrency = options.concurrency ?? readConcurrency(options.requestsPerSecond);
  const mappedStatus = options.mappedAccountNames instanceof Map ? options.mappedAccountNames : new Map([...options.mappedAccountNames].map((n) => [n, 'active' as AccountStatus]));
  if (api.listAccountsWithStatus) return readWithStatusList(api, units, mappedStatus, concurrency);
  const listed = await api.getAllAccounts();
  calls += Math.max(1, Math.ceil(listed.length / 2000));
  const accounts: NeteaseAccountRecord[] = listed.map((a) => {
    const r: NeteaseAccountRecord = { accountName: a.accountName, status: 'active' };
    if (a.nickname !== undefined) r.nickname = a.nickname;
    if (a.mobile !== undefined) r.mobile = a.mobile;
    if (a.jobNo !== undefined) r.jobNo = a.jobNo;
    return r;
  });
  const mapped = mappedStatus;
  const unmanaged = accounts.filter((a) => !mapped.has(a.accountName.toLowerCase()));
  const verified = await readMappedAccounts(api, accounts, mapped, concurrency);
  calls += verified.calls;
  if (unmanaged.length > 0 && units.length > 0) {
    const unitOf = new Map<string, string>();
    await mapLimit(units, Math.min(concurrency, 8), async (u) => {
      const members = await api.getAllAccounts({ unitId: u.unitId });
      calls += Math.max(1, Math.ceil(members.length / 2000));
      for (const m of members) unitOf.set(m.accountName.toLowerCase(), u.unitId);
    }, { onError: 'finish' });
    for (const a of unmanaged) {
      const unitId = unitOf.get(a.accountName.toLowerCase());
      if (unitId !== undefined) a.unitId = unitId;
    }
  }
  return { state: { units, accounts: [...unmanaged, ...verified.records], reconcilable: true }, calls };
}

/**
 * With the open platform: one paged listing gives every mailbox's status and unit (§4).
 * A mapped mailbox the list does not show (the reference does not say whether soft-deleted
 * ones are listed) is read with getAccount: soft-deleted, or gone.
 */
async function readWithStatusList(api: NeteaseDirectory, units: NeteaseUnitRecord[], mapped: ReadonlyMap<string, AccountStatus>, concurrency: number): Promise<NeteaseStateRead> {
  const listed = await api.listAccountsWithStatus!();
  let calls = 1 + Math.max(1, Math.ceil(listed.length / OPEN_ACCOUNT_PAGE_SIZE));
  const accounts: NeteaseAccountRecord[] = listed.map((a) => {
    const name = a.accountName.toLowerCase();
    // 'unknown' (resigned, handover, a code the reference does not list): take the status we recorded.
    const r: NeteaseAccountRecord = { accountName: a.accountName, status: a.status === 'unknown' ? (mapped.get(name) ?? 'active') : a.status };
    if (a.nickname !== undefined) r.nickname = a.nickname;
    if (a.mobile !== undefined) r.mobile = a.mobile;
    if (a.jobNo !== undefined) r.jobNo = a.jobNo;
    if (a.unitId !== undefined && a.unitId !== '') r.unitId = a.unitId;
    return r;
  });
  const seen = new Set(accounts.map((a) => a.accountName.toLowerCase()));
  const unvouched = new Map([...mapped].filter(([n, status]) => !seen.has(n) && status !== 'deleted'));
  const verified = await readMappedAccounts(api, [], unvouched, concurrency);
  calls += verified.calls;
  return { state: { units, accounts: [...accounts, ...verified.records], reconcilable: true }, calls };
}

/** getAccount for every mapped account worth comparing; see the module doc. */
async function readMappedAccounts(
  api: NeteaseDirectory,
  listed: readonly NeteaseAccountRecord[],
  mapped: ReadonlyMap<string, AccountStatus>,
  concurrency: number,
): Promise<{ records: NeteaseAccountRecord[]; calls: number }> {
  const listedNames = new Set(listed.map((a) => a.accountName.toLowerCase()));
  const names = [...mapped].filter(([n, status]) => status !== 'deleted' || listedNames.has(n)).map(([n]) => n);
  const found = await mapLimit(names, concurrency, async (name): Promise<NeteaseAccountRecord | undefined> => {
    let a;
    try {
      a = await api.getAccount(name);
    } catch (err) {
      if (isNeteaseError(err, 'notFound')) return undefined;
      throw err;
    }
    // 'unknown' (a status code the reference does not list): take the status we recorded, so no drift is invented.
    const status: AccountStatus = a.status === 'normal' ? 'active' : a.status === 'suspended' ? 'suspended' : a.status === 'deleted' ? 'deleted' : mapped.get(name)!;
    const r: NeteaseAccountRecord = { accountName: a.accountName || name, status };
    if (a.nickname !== undefined) r.nickname = a.nickname;
    if (a.mobile !== undefined) r.mobile = a.mobile;
    if (a.jobNo !== undefined) r.jobNo = a.jobNo;
    if (a.unitId !== undefined && a.unitId !== '') r.unitId = a.unitId;
    // Mailbox policies compare it (plan/policies.ts); a value that is not a plain number is not compared.
    if (a.quota !== undefined && /^\d+$/.test(a.quota)) r.quota = a.quota;
    return r;
  });
  return { records: found.filter((r): r is NeteaseAccountRecord => r !== undefined), calls: names.length };
}
