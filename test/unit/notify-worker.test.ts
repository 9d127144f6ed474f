/**
 * The notify worker's use case (checkNewMail) with in-memory stores, a fixed clock, a fake
 * NetEase mail log and a recording sender: windows, deduplication, concurrency, time
 * budget and failure handling, one behaviour per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryNotifyStore } from '../../shared/adapters/memory/memory-notify.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { NotifyJob } from '../../shared/contracts/notify-job';
import { UpstreamError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { recordingMetrics } from '../../shared/ports/metrics';
import type { StateStores } from '../../shared/ports/state-stores';
import { StateStoreError } from '../../shared/ports/store-common';
import { checkNewMail, type CheckNewMailDeps } from '../../shared/use-cases/notify/check-new-mail';
import type { MailLogReader } from '../../shared/ports/netease-mailbox';
import { formatChinaTime, type MailLogEntry } from '../../shared/use-cases/notify/new-mail';
import type { Notice } from '../../shared/domain/notice';
import { NotifySendError } from '../../shared/errors/notify-send-error';
import type { NotificationSender } from '../../shared/ports/notice-channel';

const T0 = Date.UTC(2024, 4, 6, 2, 0, 0);
const clock = fixedClock(T0);
const TENANT: TenantConfig = tenantSchema.parse({
  id: 'acme',
  netease: { domain: 'acme.example.com', product: 'acme', region: 'hz' },
  dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' },
  sync: { source: 'dingtalk' },
  notifications: { enabled: true, channel: 'dingtalk', tenantWide: true },
});

/** A NetEase received-mail log in memory, answering like the API (window inclusive, by account). */
class FakeMailLog implements MailLogReader {
  entries: Array<MailLogEntry & { account: string }> = [];
  calls: Array<{ accounts: readonly string[]; start: Date; end: Date }> = [];
  failWith: Error | undefined;
  deliver(account: string, subject: string, from = 'x@partner.example', at = clock.now()): void {
    this.entries.push({ account, from, to: `${account}@acme.example.com`, subject, sentAt: formatChinaTime(at), result: '1' });
  }
  async getReceivedMailLogs(q: { accounts: readonly string[]; start: Date; end: Date }) {
    this.calls.push(q);
    if (this.failWith) throw this.failWith;
    const start = formatChinaTime(Math.floor(q.start.getTime() / 1000) * 1000);
    const end = formatChinaTime(Math.floor(q.end.getTime() / 1000) * 1000);
    const list = this.entries.filter((e) => q.accounts.includes(e.account) && e.sentAt! >= start && e.sentAt! <= end).map(({ account: _a, ...rest }) => rest);
    return { total: list.length, entries: list };
  }
}

class RecordingSender implements NotificationSender {
  readonly channel = 'dingtalk' as const;
  sent: Array<{ userId: string; notice: Notice }> = [];
  failFor = new Map<string, NotifySendError>();
  delayMs = 0;
  async send(userId: string, notice: Notice): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const err = this.failFor.get(userId);
    if (err) throw err;
    this.sent.push({ userId, notice });
  }
  titles(): string[] {
    return this.sent.map((s) => (s.notice.kind === 'mail' ? s.notice.subject : `summary:${s.notice.count}`));
  }
}

let stores: StateStores;
let notifyStore: MemoryNotifyStore;
let mailLog: FakeMailLog;
let sender: RecordingSender;
let logger: ReturnType<typeof createMemoryLogger>;
let metrics: ReturnType<typeof recordingMetrics>;

function deps(over: Partial<CheckNewMailDeps> = {}): CheckNewMailDeps {
  return {
    tenant: (id) => (id === TENANT.id ? TENANT : undefined),
    notifyStore,
    once: stores.once,
    cache: stores.cache,
    clock,
    logger,
    metrics,
    mailLogs: async () => mailLog,
    sender: async () => sender,
    ssoBaseUrl: 'https://bridge.example.com',
    ...over,
  };
}

function job(people: Array<[string, string]> = [['u1', 'zhangsan']]): NotifyJob {
  return { v: 1, tenantId: 'acme', runId: '20240506T020000000Z-unit', channel: 'dingtalk', plannedAt: clock.now(), people: people.map(([userId, account]) => ({ userId, account })) };
}

/** The first poll sets the people's watermarks; then a mail arrives for each account in `mails` (its subject), and 30 s pass. */
async function firstPollThenMail(people: Array<[string, string]> | undefined, mails: Record<string, string>): Promise<void> {
  await checkNewMail(deps(), job(people));
  clock.advance(1000);
  for (const [account, subject] of Object.entries(mails)) mailLog.deliver(account, subject);
  clock.advance(30_000);
}

async function watermark(account: string) {
  return (await notifyStore.getWatermarks('acme', [account])).get(account);
}

beforeEach(() => {
  clock.set(T0);
  stores = createMemoryStateStores({ clock });
  notifyStore = new MemoryNotifyStore({ clock });
  mailLog = new FakeMailLog();
  sender = new RecordingSender();
  logger = createMemoryLogger();
  metrics = recordingMetrics();
});

describe('checkNewMail', () => {
  it('starts watching a mailbox at its first check, without calling NetEase or sending', async () => {
    mailLog.deliver('zhangsan', 'before');
    const r = await checkNewMail(deps(), job());
    expect(r).toMatchObject({ status: 'ok', firstChecks: 1, messages: 0 });
    expect(mailLog.calls).toHaveLength(0);
    expect(await watermark('zhangsan')).toMatchObject({ since: T0, until: T0, recent: [] });
  });

  it('reads the log once per batch, from the earliest window start to now', async () => {
    await checkNewMail(deps(), job([['u1', 'zhangsan']]));
    clock.advance(60_000);
    await checkNewMail(deps(), job([['u1', 'zhangsan'], ['u2', 'lisi']]));
    clock.advance(10 * 60_000);
    mailLog.calls = [];
    await checkNewMail(deps(), job([['u1', 'zhangsan'], ['u2', 'lisi']]));
    expect(mailLog.calls).toHaveLength(1);
    const call = mailLog.calls[0]!;
    expect([...call.accounts].sort()).toEqual(['lisi', 'zhangsan']);
    // zhangsan's window starts at his `since` (T0), lisi's two minutes before T0+60 s; the earlier wins.
    expect(call.start.getTime()).toBe(T0);
    expect(call.end.getTime()).toBe(clock.now());
  });

  it('notifies a new mail once with a link to the SSO endpoint, and records it on the watermark', async () => {
    await checkNewMail(deps(), job());
    clock.advance(1000);
    mailLog.deliver('zhangsan', '周报');
    clock.advance(60_000);
    const r = await checkNewMail(deps(), job());
    expect(r).toMatchObject({ newMails: 1, messages: 1, detailed: 1 });
    expect(sender.sent).toEqual([
      { userId: 'u1', notice: { kind: 'mail', subject: '周报', from: 'x@partner.example', sentAtText: formatChinaTime(T0 + 1000), url: 'https://bridge.example.com/sso/acme?via=dingtalk&module=mbox.ListModule%7C%7B%22fid%22%3A1%7D' } },
    ]);
    const wm = await watermark('zhangsan');
    expect(wm?.until).toBe(clock.now());
    expect(wm?.recent).toHaveLength(1);
    clock.advance(60_000);
    expect(await checkNewMail(deps(), job())).toMatchObject({ newMails: 0, messages: 0 });
  });

  it('counts the notices it sent as NoticesSent by vendor, and nothing for a poll that sent none', async () => {
    await firstPollThenMail(undefined, { zhangsan: 'a' });
    expect(metrics.counts).toEqual([]);
    await checkNewMail(deps(), job());
    expect(metrics.counts).toEqual([{ name: 'NoticesSent', value: 1, dimensions: { vendor: 'dingtalk', tenant: 'acme' } }]);
  });

  it('skips a mail re-read in the overlap window using the watermark, without asking the OnceStore', async () => {
    await firstPollThenMail(undefined, { zhangsan: 'a' });
    await checkNewMail(deps(), job());
    let begins = 0;
    const once = stores.once;
    const counting = { ...once, get: once.get.bind(once), claim: once.claim.bind(once), complete: once.complete.bind(once), release: once.release.bind(once), begin: (...a: Parameters<typeof once.begin>) => (begins++, once.begin(...a)) };
    clock.advance(30_000);
    await checkNewMail(deps({ once: counting }), job());
    expect(begins).toBe(0);
    expect(sender.sent).toHaveLength(1);
  });

  it('does not notify again when a watermark was lost after the send (the OnceStore remembers)', async () => {
    await checkNewMail(deps(), job());
    const before = (await watermark('zhangsan'))!;
    clock.advance(1000);
    mailLog.deliver('zhangsan', 'once only');
    clock.advance(30_000);
    await checkNewMail(deps(), job());
    // As if the watermark write had failed: an older watermark, the mail re-read.
    notifyStore = new MemoryNotifyStore({ clock });
    await notifyStore.putWatermark({ tenantId: 'acme', account: 'zhangsan', since: before.since, until: before.until, recent: [] });
    clock.advance(30_000);
    const r = await checkNewMail(deps(), job());
    expect(r).toMatchObject({ newMails: 1, duplicateMails: 1, messages: 0 });
    expect(sender.sent).toHaveLength(1);
  });

  it('sends each mail once when two deliveries of the batch run at the same time', async () => {
    await firstPollThenMail(undefined, { zhangsan: 'race' });
    sender.delayMs = 30;
    const [a, b] = await Promise.all([checkNewMail(deps(), job()), checkNewMail(deps(), job())]);
    expect(sender.sent).toHaveLength(1);
    // The loser saw the mail in flight and left it for later (its watermark stays back).
    expect(a.deferredMails + b.deferredMails).toBe(1);
    clock.advance(60_000);
    sender.delayMs = 0;
    await checkNewMail(deps(), job());
    expect(sender.sent).toHaveLength(1);
  });

  it('marks a person the vendor refuses for good as handled and goes on with the others', async () => {
    await firstPollThenMail([['u1', 'zhangsan'], ['u2', 'lisi']], { zhangsan: 'z', lisi: 'l' });
    sender.failFor.set('u1', new NotifySendError('person', 'DINGTALK.NOT_FOUND', 'dingtalk: user not found'));
    const r = await checkNewMail(deps(), job([['u1', 'zhangsan'], ['u2', 'lisi']]));
    expect(r).toMatchObject({ failedPeople: 1, messages: 1 });
    expect(sender.sent.map((s) => s.userId)).toEqual(['u2']);
    expect((await watermark('zhangsan'))!.until).toBe(clock.now());
    sender.failFor.clear();
    clock.advance(60_000);
    await checkNewMail(deps(), job([['u1', 'zhangsan'], ['u2', 'lisi']]));
    expect(sender.sent.map((s) => s.userId)).toEqual(['u2']);
  });

  it('stops the batch on a tenant-wide refusal, keeps every watermark and does not throw', async () => {
    const people: Array<[string, string]> = [['u1', 'a1'], ['u2', 'a2'], ['u3', 'a3']];
    await checkNewMail(deps(), job(people));
    const before = await notifyStore.getWatermarks('acme', ['a1', 'a2', 'a3']);
    clock.advance(1000);
    for (const [, a] of people) mailLog.deliver(a, 'm');
    clock.advance(30_000);
    for (const [u] of people) sender.failFor.set(u, new NotifySendError('tenant', 'DINGTALK.CREDENTIALS_REJECTED', 'bad app secret'));
    const r = await checkNewMail(deps({ options: { concurrency: 1 } }), job(people));
    expect(r).toMatchObject({ status: 'tenant_error', errorCode: 'DINGTALK.CREDENTIALS_REJECTED', messages: 0 });
    const after = await notifyStore.getWatermarks('acme', ['a1', 'a2', 'a3']);
    for (const a of ['a1', 'a2', 'a3']) expect(after.get(a)!.until).toBe(before.get(a)!.until);
    // Leases were given back: once fixed, the next poll sends all three.
    sender.failFor.clear();
    clock.advance(60_000);
    await checkNewMail(deps(), job(people));
    expect(sender.sent).toHaveLength(3);
  });

  it('throws a retryable vendor error after finishing what it could, so the record is retried', async () => {
    await firstPollThenMail([['u1', 'a1'], ['u2', 'a2']], { a1: 'm1', a2: 'm2' });
    const vendor = new UpstreamError('dingtalk', 'UPSTREAM.RATE_LIMITED', 'dingtalk asyncsend_v2 was rate limited', { retryable: true });
    sender.failFor.set('u2', new NotifySendError('retry', vendor.code, vendor.message, vendor));
    const err = await checkNewMail(deps({ options: { concurrency: 1 } }), job([['u1', 'a1'], ['u2', 'a2']])).catch((e: unknown) => e);
    expect(err).toBe(vendor);
    expect((await watermark('a1'))!.until).toBe(clock.now());
    expect((await watermark('a2'))!.until).toBe(T0);
    sender.failFor.clear();
    await checkNewMail(deps(), job([['u1', 'a1'], ['u2', 'a2']]));
    expect(sender.sent.map((s) => s.userId)).toEqual(['u1', 'u2']);
  });

  it('gives the leases back and fails retryably when our own store fails mid-way', async () => {
    await firstPollThenMail(undefined, { zhangsan: 'a' });
    const broken = { ...stores.once, begin: stores.once.begin.bind(stores.once), release: stores.once.release.bind(stores.once), get: stores.once.get.bind(stores.once), claim: stores.once.claim.bind(stores.once) };
    broken.complete = async () => {
      throw new StateStoreError('STATE.UNAVAILABLE', 'DynamoDB once complete failed: ThrottlingException', { retryable: true });
    };
    await expect(checkNewMail(deps({ once: broken as never }), job())).rejects.toMatchObject({ code: 'STATE.UNAVAILABLE', retryable: true });
    expect((await watermark('zhangsan'))!.until).toBe(T0);
    // The retry may send again (the first send's completion was lost); vendors drop the
    // identical content (DingTalk same day, WeCom duplicate check), and it is not lost.
    await checkNewMail(deps(), job());
    expect(sender.sent).toHaveLength(2);
    expect(sender.sent[0]!.notice).toEqual(sender.sent[1]!.notice);
  });

  it('leaves people for the next poll when the invocation runs out of time', async () => {
    const people: Array<[string, string]> = [['u1', 'a1'], ['u2', 'a2']];
    await firstPollThenMail(people, { a1: 'm1', a2: 'm2' });
    let left = 60_000;
    const r = await checkNewMail(deps({ options: { concurrency: 1 } }), job(people), {
      timeLeftMs: () => {
        const t = left;
        left = 5_000;
        return t;
      },
    });
    expect(r).toMatchObject({ messages: 1, leftForNextRun: 1 });
    expect((await watermark('a2'))!.until).toBe(T0);
  });

  it('rewrites an idle watermark only every refreshMs', async () => {
    await checkNewMail(deps(), job());
    clock.advance(5 * 60_000);
    await checkNewMail(deps(), job());
    expect((await watermark('zhangsan'))!.until).toBe(T0);
    clock.advance(5 * 60_000);
    await checkNewMail(deps(), job());
    expect((await watermark('zhangsan'))!.until).toBe(T0 + 10 * 60_000);
  });

  it('after a long outage, does not call day-old mail new', async () => {
    await checkNewMail(deps(), job());
    clock.advance(60_000);
    mailLog.deliver('zhangsan', 'stale');
    clock.advance(25 * 3600_000);
    mailLog.deliver('zhangsan', 'fresh');
    clock.advance(60_000);
    await checkNewMail(deps(), job());
    expect(sender.titles()).toEqual(['fresh']);
  });

  it('skips mail NetEase did not deliver, and mail to addresses outside the batch', async () => {
    await checkNewMail(deps(), job([['u1', 'a1'], ['u2', 'a2']]));
    clock.advance(1000);
    mailLog.entries.push({ account: 'a1', to: 'a1@acme.example.com', subject: 'bounced', sentAt: formatChinaTime(clock.now()), result: '0' });
    mailLog.entries.push({ account: 'a1', to: 'sales-list@acme.example.com', subject: 'to a list', sentAt: formatChinaTime(clock.now()), result: '1' });
    clock.advance(30_000);
    const r = await checkNewMail(deps(), job([['u1', 'a1'], ['u2', 'a2']]));
    expect(r).toMatchObject({ logEntries: 2, unattributed: 1, messages: 0 });
  });

  it('acknowledges (does not throw) when NetEase refuses the read for good, and keeps the watermarks', async () => {
    await checkNewMail(deps(), job());
    clock.advance(60_000);
    mailLog.failWith = new UpstreamError('netease', 'NETEASE.SIGNATURE_INVALID', 'netease mail/getReceivedMailLogs: signature rejected', { retryable: false });
    const r = await checkNewMail(deps(), job());
    expect(r).toMatchObject({ status: 'netease_error', errorCode: 'NETEASE.SIGNATURE_INVALID' });
    mailLog.failWith = new UpstreamError('netease', 'UPSTREAM.SERVER_ERROR', 'HTTP 503', { retryable: true });
    await expect(checkNewMail(deps(), job())).rejects.toMatchObject({ retryable: true });
    expect((await watermark('zhangsan'))!.until).toBe(T0);
  });

  it('does nothing for a tenant whose notifications were switched off since planning', async () => {
    const off = tenantSchema.parse({ ...TENANT, sync: { source: 'dingtalk' }, notifications: { enabled: false } });
    const r = await checkNewMail(deps({ tenant: () => off }), job());
    expect(r.status).toBe('skipped');
    expect(await watermark('zhangsan')).toBeUndefined();
  });
});
