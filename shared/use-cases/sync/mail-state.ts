/**
 * The planner's input for the mail features (PlanSyncInput.mail): whether the tenant's
 * NetEase API has the list calls, the pinyin function, and, on full runs, what NetEase
 * holds (mail-features.ts MailNeteaseState).
 *
 * Reads on a full run, counted into the run's NetEase reads:
 * - lists enabled: maillist/getMaillistList (one call per 500 lists) and, for every list
 *   the bridge maps, its members (getMaillistMember, one call per list): a list edited or
 *   deleted by hand is repaired, a list the bridge does not manage is a name it must not take;
 * - aliases enabled: account/getAccountAliasList for every mapped active mailbox (one call
 *   each, `concurrency` in flight, paced by the tenant's rate limiter): an alias removed by
 *   hand is added again, one added by hand is a name no one else gets.
 * Incremental runs read nothing: the mapping holds what the bridge applied, and an alias
 * or list address taken in the meantime fails the one operation (reported).
 */
import type { MailNeteaseState, MailPlanInput } from '../../domain/mail-features';
import type { MappingState, SyncSettings } from '../../domain/sync-plan';
import { isNeteaseError } from '../../errors/netease-failure';
import { mapLimit } from '../../lib/map-limit';
import { romanize } from '../../lib/pinyin';
import type { NeteaseDirectory } from '../../ports/netease-directory';

/** getAccountAliasList / getMaillistMember calls in flight (the client's limiter paces them). */
const READ_CONCURRENCY = 8;
/** Lists per getMaillistList page (the open client's page size). */
const LIST_PAGE_SIZE = 500;

export interface MailInputRead {
  /** Undefined when neither feature is on. */
  input?: MailPlanInput;
  /** NetEase calls made (0 on incremental runs). */
  calls: number;
}

/**
 * Builds PlanSyncInput.mail. `api` is called only when a feature needs NetEase (lists: to
 * know whether the open platform is there; full runs: to read).
 */
export async function prepareMailInput(settings: SyncSettings, state: MappingState, full: boolean, api: () => Promise<NeteaseDirectory>): Promise<MailInputRead> {
  const lists = settings.mailLists?.enabled === true;
  const aliases = settings.aliases !== undefined;
  if (!lists && !aliases) return { calls: 0 };
  const dir = lists || full ? await api() : undefined;
  const listsAvailable = dir?.mailLists !== undefined;
  const input: MailPlanInput = { listsAvailable, romanize };
  if (!full || !dir) return { input, calls: 0 };
  const read = await readMailState(dir, state, { lists: lists && listsAvailable, aliases });
  input.netease = read.state;
  return { input, calls: read.calls };
}

async function readMailState(api: NeteaseDirectory, state: MappingState, want: { lists: boolean; aliases: boolean }): Promise<{ state: MailNeteaseState; calls: number }> {
  let calls = 0;
  const lists = new Map<string, { displayName?: string; members?: readonly string[] }>();
  if (want.lists && api.mailLists) {
    const all = await api.mailLists.listMailLists();
    calls += Math.max(1, Math.ceil(all.length / LIST_PAGE_SIZE));
    for (const l of all) lists.set(l.name.toLowerCase(), l.displayName !== undefined ? { displayName: l.displayName } : {});
    const ours = [...new Set(state.units.flatMap((u) => (u.mailList && lists.has(u.mailList.name) ? [u.mailList.name] : [])))];
    await mapLimit(ours, READ_CONCURRENCY, async (name) => {
      calls++;
      try {
        lists.set(name, { ...lists.get(name), members: await api.mailLists!.getMailListMembers(name) });
      } catch (err) {
        // Deleted between the two reads: the planner creates it again.
        if (isNeteaseError(err, 'notFound')) lists.delete(name);
        else throw err;
      }
    });
  }
  const aliases = new Map<string, readonly string[]>();
  if (want.aliases && api.aliases) {
    const names = state.accounts.filter((a) => a.status === 'active').map((a) => a.accountName.toLowerCase());
    await mapLimit(names, READ_CONCURRENCY, async (name) => {
      calls++;
      try {
        aliases.set(name, await api.aliases!.getAccountAliases(name));
      } catch (err) {
        // Gone in NetEase: the account drift (reconcile.ts) deals with it.
        if (!isNeteaseError(err, 'notFound')) throw err;
      }
    });
  }
  return { state: { lists, aliases }, calls };
}
