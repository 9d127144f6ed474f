/**
 * Read a batch's received-mail log so that nothing is lost when NetEase truncates it.
 *
 * mail/getReceivedMailLogs (reference netease-qiye-api.md §2) takes `accounts`, `start`
 * and `end` and answers `{total, list}`. No paging parameter is documented for it (the
 * login-log endpoints have page_num / page_size; this one does not), and neither is the
 * order of `list`. So when `list` holds fewer entries than `total`, which entries are
 * missing is unknown, and the query is narrowed instead:
 * 1. several accounts: split them in two halves and read each half (each from the
 *    earliest window start of its own accounts);
 * 2. one account: page through its window by time, oldest part first: a part short
 *    enough to hold about one answer's worth of entries (estimated from the last answer's
 *    `list` / `total`); a complete part is covered and the next part may be twice as long,
 *    a truncated one is tried again shorter. The part after what earlier polls already
 *    read completely (the account's watermark) comes first: the window reaches a little
 *    further back only to catch entries the log shows late, and that re-read part is read
 *    last, budget allowing, and taken as it comes.
 * All within `maxQueries` per batch. The result says, per account, up to when its log is
 * known complete (`coveredUntil`): the caller moves that account's watermark no further,
 * so a mail not read this time is read by the next poll, which goes on from there.
 * Entries of truncated answers are returned too (they are real mails).
 * One account still truncated in a part of `minWindowMs` cannot be narrowed further: the
 * part counts as covered (`unresolved`), because holding it back would re-read the same
 * part at every poll and notify nothing newer for that person for a day.
 */
import type { MailLogReader } from '../../ports/netease-mailbox';
import type { MailLogEntry } from './new-mail';

export interface MailLogWindow {
  /** Lower-cased account name. */
  account: string;
  /** Start of this account's window (ms). */
  start: number;
  /** Earlier polls read this account's log completely up to here (its watermark; ms). */
  readUntil: number;
}

export interface MailLogReadOptions {
  /** Log queries at most for the batch (NetEase's rate budget is shared with the sync). */
  maxQueries: number;
  /** One account's window is not cut below this (ms, at least 2 s: times have second precision). */
  minWindowMs: number;
}

export interface MailLogRead {
  /** Every entry read, duplicates from overlapping queries removed. */
  entries: MailLogEntry[];
  /** Per account: its log is complete from its window start up to here (ms). */
  coveredUntil: Map<string, number>;
  queries: number;
  /** Answers that held fewer entries than their `total`. */
  truncated: number;
  /** Accounts still truncated in the shortest part (treated as covered; see the file comment). */
  unresolved: string[];
  /** The query budget ran out before every account was covered up to `end`. */
  exhausted: boolean;
  /** Accounts whose log came back truncated at least once this time. */
  narrowed: Set<string>;
}

interface Answer {
  complete: boolean;
  /** list / total of a truncated answer (1 when complete). */
  ratio: number;
}

/** Read `windows` up to `end`; see the file comment. Reader errors propagate. */
export async function readMailLogs(reader: MailLogReader, windows: readonly MailLogWindow[], end: number, opts: MailLogReadOptions): Promise<MailLogRead> {
  const startOf = new Map(windows.map((w) => [w.account, w.start]));
  // Nothing read yet this poll: covered as far as earlier polls read (never before the window).
  const before = new Map(windows.map((w) => [w.account, Math.max(w.start, Math.min(w.readUntil, end))]));
  const out: MailLogRead = { entries: [], coveredUntil: new Map(before), queries: 0, truncated: 0, unresolved: [], exhausted: false, narrowed: new Set() };
  const seen = new Set<string>();
  const minWindowMs = Math.max(2000, opts.minWindowMs);
  // Whole seconds: NetEase takes `yyyy-MM-dd HH:mm:ss` bounds (inclusive: a boundary second is read twice, harmlessly).
  const seconds = (ms: number): number => Math.max(minWindowMs, Math.floor(ms / 1000) * 1000);

  const cover = (account: string, until: number): void => {
    out.coveredUntil.set(account, Math.max(out.coveredUntil.get(account) ?? until, until));
  };

  /** One query; undefined when the budget is spent. */
  const query = async (accounts: readonly string[], start: number, stop: number): Promise<Answer | undefined> => {
    if (out.queries >= opts.maxQueries) {
      out.exhausted = true;
      return undefined;
    }
    out.queries++;
    const r = await reader.getReceivedMailLogs({ accounts, start: new Date(start), end: new Date(stop) });
    for (const e of r.entries) {
      const key = JSON.stringify([e.to, e.sentAt, e.from, e.subject, e.result]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.entries.push(e);
    }
    if (r.total <= r.entries.length) return { complete: true, ratio: 1 };
    out.truncated++;
    for (const a of accounts) out.narrowed.add(a);
    return { complete: false, ratio: r.total > 0 ? r.entries.length / r.total : 1 };
  };

  /** Page one account's log over [from, stop] by time (file comment, step 2). */
  const page = async (account: string, from: number, stop: number, ratio: number): Promise<void> => {
    let len = seconds((stop - from) * ratio);
    while (from < stop) {
      const to = Math.min(stop, from + len);
      const a = await query([account], from, to);
      if (!a) return;
      if (a.complete) {
        cover(account, to);
        from = to;
        len *= 2;
      } else if (to - from <= minWindowMs) {
        out.unresolved.push(account);
        cover(account, to);
        from = to;
      } else {
        len = seconds(Math.min((to - from) / 2, (to - from) * a.ratio));
      }
    }
  };

  const read = async (accounts: readonly string[], start: number, stop: number): Promise<void> => {
    const a = await query(accounts, start, stop);
    if (!a) return;
    if (a.complete) {
      for (const account of accounts) cover(account, stop);
      return;
    }
    if (accounts.length > 1) {
      const half = Math.ceil(accounts.length / 2);
      for (const part of [accounts.slice(0, half), accounts.slice(half)]) {
        await read(part, Math.max(start, Math.min(...part.map((x) => startOf.get(x) ?? start))), stop);
      }
      return;
    }
    const account = accounts[0] as string;
    const done = before.get(account) ?? start;
    // New ground first: it decides how far the watermark may move.
    await page(account, Math.max(start, done), stop, a.ratio);
    // The part earlier polls read completely, again for late entries only: taken as it comes.
    if (done > start) await query([account], start, done);
  };

  if (windows.length > 0) await read([...startOf.keys()], Math.min(...startOf.values()), end);
  return out;
}
