/**
 * readMailLogs: narrowing a truncated NetEase mail-log answer (no paging in the API) until
 * every entry is read, or knowing per account how far its log was read completely.
 */
import { describe, expect, it } from 'vitest';
import type { MailLogReader } from '../../shared/ports/netease-mailbox';
import { formatChinaTime, type MailLogEntry } from '../../shared/use-cases/notify/new-mail';
import { readMailLogs } from '../../shared/use-cases/notify/read-mail-logs';

const T0 = Date.UTC(2024, 4, 6, 2, 0, 0);

/** Answers like the API (bounds inclusive, whole seconds), with `list` cut to `cap` entries. */
class CappedLog implements MailLogReader {
  entries: Array<MailLogEntry & { account: string }> = [];
  calls: Array<{ accounts: string[]; start: number; end: number }> = [];
  constructor(
    private readonly cap: number,
    private readonly newestFirst = false,
  ) {}
  deliver(account: string, at: number, subject = `s${this.entries.length}`): void {
    this.entries.push({ account, to: `${account}@acme.example.com`, from: 'x@partner.example', subject, sentAt: formatChinaTime(at), result: '1' });
  }
  async getReceivedMailLogs(q: { accounts: readonly string[]; start: Date; end: Date }) {
    this.calls.push({ accounts: [...q.accounts], start: q.start.getTime(), end: q.end.getTime() });
    const start = formatChinaTime(Math.floor(q.start.getTime() / 1000) * 1000);
    const end = formatChinaTime(Math.floor(q.end.getTime() / 1000) * 1000);
    const all = this.entries.filter((e) => q.accounts.includes(e.account) && e.sentAt! >= start && e.sentAt! <= end).map(({ account: _a, ...rest }) => rest);
    if (this.newestFirst) all.reverse();
    return { total: all.length, entries: all.slice(0, this.cap) };
  }
}

const opts = { maxQueries: 50, minWindowMs: 5_000 };
const subjects = (es: readonly MailLogEntry[]) => es.map((e) => e.subject).sort();

describe('readMailLogs', () => {
  it('makes one query and covers every account up to the end when nothing is truncated', async () => {
    const log = new CappedLog(100);
    log.deliver('a', T0 + 10_000);
    const r = await readMailLogs(log, [{ account: 'a', start: T0, readUntil: T0 }, { account: 'b', start: T0, readUntil: T0 }], T0 + 60_000, opts);
    expect(r.queries).toBe(1);
    expect(r.truncated).toBe(0);
    expect(r.coveredUntil).toEqual(new Map([['a', T0 + 60_000], ['b', T0 + 60_000]]));
  });

  for (const newestFirst of [false, true]) {
    it(`finds every entry of many accounts when each answer holds 3 (${newestFirst ? 'newest' : 'oldest'} first)`, async () => {
      const log = new CappedLog(3, newestFirst);
      const accounts = ['a', 'b', 'c', 'd', 'e'];
      accounts.forEach((a, i) => {
        for (let k = 0; k < 4; k++) log.deliver(a, T0 + 5_000 + k * 20_000 + i * 1000, `${a}${k}`);
      });
      const r = await readMailLogs(log, accounts.map((account) => ({ account, start: T0, readUntil: T0 })), T0 + 120_000, opts);
      expect(subjects(r.entries)).toEqual(accounts.flatMap((a) => [0, 1, 2, 3].map((k) => `${a}${k}`)).sort());
      expect([...r.coveredUntil.values()]).toEqual(accounts.map(() => T0 + 120_000));
      expect(r.exhausted).toBe(false);
      expect(r.unresolved).toEqual([]);
      expect(r.queries).toBeLessThanOrEqual(opts.maxQueries);
    });
  }

  it('reads the part after the watermark first, so a dense re-read part cannot hold it back', async () => {
    const log = new CappedLog(2);
    // Five mails in the re-read part (before the watermark), one after it.
    for (let k = 0; k < 5; k++) log.deliver('a', T0 + 1_000 + k * 1000, `old${k}`);
    log.deliver('a', T0 + 90_000, 'new');
    const readUntil = T0 + 60_000;
    const r = await readMailLogs(log, [{ account: 'a', start: T0, readUntil }], T0 + 120_000, { maxQueries: 3, minWindowMs: 5_000 });
    expect(r.coveredUntil.get('a')).toBe(T0 + 120_000);
    expect(subjects(r.entries)).toContain('new');
    expect(log.calls[1]!.start).toBe(readUntil);
  });

  it('leaves an account covered only as far as it was read when the query budget runs out', async () => {
    const log = new CappedLog(1);
    for (let k = 0; k < 6; k++) log.deliver('a', T0 + 10_000 * (k + 1));
    const r = await readMailLogs(log, [{ account: 'a', start: T0, readUntil: T0 }], T0 + 100_000, { maxQueries: 3, minWindowMs: 5_000 });
    expect(r.exhausted).toBe(true);
    expect(r.queries).toBe(3);
    const covered = r.coveredUntil.get('a')!;
    expect(covered).toBeLessThan(T0 + 100_000);
    // Covered means complete: every mail up to there was read.
    const upTo = log.entries.filter((e) => e.sentAt! <= formatChinaTime(covered)).map((e) => e.subject);
    expect(subjects(r.entries)).toEqual(expect.arrayContaining(upTo));
  });

  it('gives up on a part shorter than minWindowMs that is still truncated, says so, and moves on', async () => {
    const log = new CappedLog(2);
    for (let k = 0; k < 5; k++) log.deliver('a', T0 + 30_000, `same${k}`);
    log.deliver('a', T0 + 80_000, 'later');
    const r = await readMailLogs(log, [{ account: 'a', start: T0, readUntil: T0 }], T0 + 120_000, opts);
    expect(r.unresolved).toEqual(['a']);
    expect(r.coveredUntil.get('a')).toBe(T0 + 120_000);
    expect(subjects(r.entries)).toContain('later');
  });
});
