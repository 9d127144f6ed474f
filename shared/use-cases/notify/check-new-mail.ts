/**
 * Check one batch of mailboxes for new mail and notify their owners (the notify worker's
 * use case, one call per `notify` queue message).
 *
 * 1. Watermarks. A mailbox seen for the first time gets `since = until = now` and nothing
 *    is sent: old mail is never notified.
 * 2. One NetEase call (mail/getReceivedMailLogs, reference netease-qiye-api.md §2) for all
 *    known mailboxes of the batch, over [earliest window start, now]. A mailbox's window
 *    starts `overlapMs` before its `until` (the log may show a mail a little after its
 *    `sendtime`; the reference says nothing about that delay), never before `since`, and
 *    never more than `maxCatchUpMs` back (a day-old "new mail" is noise). When NetEase
 *    answers with fewer entries than its `total` (the API has no paging), the query is
 *    narrowed by accounts, then by time (read-mail-logs.ts), and each mailbox learns up to
 *    when its log was read completely: its watermark moves no further (step 5).
 * 3. New mail = delivered entries in the window that are not in the watermark's `recent`
 *    list and not yet handled per the OnceStore (namespace `notify`, key
 *    `mail:<account>:<identity>`, identity = hash of account + sendtime + sender + subject).
 *    `OnceStore.begin` / `complete` rather than `claim`: a claim cannot be given back, so a
 *    send that fails after it would lose the mail; `begin` takes a lease, `release` returns
 *    it on a failed send, `complete` records the mail as notified (duplicate SQS deliveries
 *    and overlapping polls then skip it, and only one worker at a time may send it).
 * 4. Limits (rate-budget.ts): up to `maxDetailedPerPoll` messages per person and poll,
 *    each within the person's vendor budget; what does not fit is folded into one
 *    "您有 N 封新邮件" message instead of being dropped. With no budget left at all the
 *    mails wait (the watermark stays) until the next poll that has budget.
 * 5. The watermark moves to `now` (or to where the person's log was read completely, if
 *    NetEase truncated it) only after that person's sends succeeded. An idle mailbox's
 *    watermark is rewritten every `refreshMs` only, to save writes.
 *
 * Failures: NetEase or vendor errors that may pass (throttling, 5xx, network) throw
 * retryably: the SQS record fails and is retried, then goes to the DLQ; people already
 * done keep their progress. A person the vendor refuses for good is logged (ids and codes
 * only), counted and treated as handled. A tenant-wide refusal (credentials, IP whitelist,
 * permission, missing secret) stops the batch, keeps every watermark and is logged for an
 * admin; the record is acknowledged (retrying cannot help; the next poll tries again).
 * Subjects and senders never reach a log line.
 */
import type { NotifyChannel, NotifyJob } from '../../contracts/notify-job';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AppError, isRetryable } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import { MAX_RECENT_MAILS, type MailWatermark, type NotifyStore } from '../../ports/notify-store';
import type { MailLogReader } from '../../ports/netease-mailbox';
import type { CacheStore } from '../../ports/cache-store';
import type { OnceStore } from '../../ports/once-store';
import type { BusinessMetrics } from '../../ports/metrics';
import { attributeEntries, type DetectedMail, type MailLogEntry } from './new-mail';
import { readMailLogs, type MailLogRead } from './read-mail-logs';
import { buildNotificationLink } from './notification-link';
import type { Notice } from '../../domain/notice';
import { NotifySendError } from '../../errors/notify-send-error';
import type { NotificationSender } from '../../ports/notice-channel';
import { CHANNEL_LIMITS, loadBudget, type RateWindow } from './rate-budget';
import { findMessageId, type MessageLister } from './find-message';
import { openDigestWindow, startDigestWindow } from './digest';

export interface NotifyOptions {
  /** Re-read this much before a mailbox's `until` (NetEase log delay is undocumented). */
  overlapMs: number;
  /** Rewrite an idle mailbox's watermark at least this often (bounds the next window). */
  refreshMs: number;
  /** Never look further back than this (after an outage, older mail is not "new"). */
  maxCatchUpMs: number;
  /** Messages per person and poll before the rest is folded into one summary. */
  maxDetailedPerPoll: number;
  /** People of one batch handled at once. */
  concurrency: number;
  /** OnceStore lease for one send: longer than a send with the client's retries. */
  leaseSeconds: number;
  /** How long a notified mail is remembered: longer than any window can reach back. */
  dedupTtlSeconds: number;
  /** Stop starting people when less than this much time is left in the invocation. */
  deadlineMarginMs: number;
  /** Per-channel limits (tests shrink them). */
  limits: Record<NotifyChannel, readonly RateWindow[]>;
  /** Mail-log queries per batch when NetEase truncates its answer (read-mail-logs.ts). */
  maxLogQueries: number;
  /** Shortest window one mailbox's truncated log is cut down to. */
  minLogWindowMs: number;
}

export const DEFAULT_NOTIFY_OPTIONS: NotifyOptions = {
  overlapMs: 2 * 60_000,
  refreshMs: 10 * 60_000,
  maxCatchUpMs: 24 * 3600_000,
  maxDetailedPerPoll: 5,
  concurrency: 4,
  leaseSeconds: 90,
  dedupTtlSeconds: 3 * 24 * 3600,
  deadlineMarginMs: 10_000,
  limits: CHANNEL_LIMITS,
  maxLogQueries: 24,
  minLogWindowMs: 5_000,
};

export interface CheckNewMailDeps {
  tenant(id: string): TenantConfig | undefined;
  notifyStore: NotifyStore;
  once: OnceStore;
  cache: CacheStore;
  clock: Clock;
  logger: Logger;
  /** Where the notices sent are counted (NoticesSent, by vendor). */
  metrics: BusinessMetrics;
  /** The tenant's NetEase mail-log reader. */
  mailLogs(tenant: TenantConfig): Promise<MailLogReader>;
  /** The tenant's sender for `channel` (`channelId`: an extra channel's app, shared/config/channels.ts). */
  sender(tenant: TenantConfig, channel: NotifyChannel, channelId?: string): Promise<NotificationSender>;
  /** Base URL of the SSO endpoint the notification links point to. */
  ssoBaseUrl: string;
  /** The tenant's mailbox lister: a notice about one mail opens that mail (find-message.ts); without it, the inbox. */
  mailbox?(tenant: TenantConfig): Promise<MessageLister>;
  /** The tenant's digest window in minutes now (digest.ts); 0 or absent = a message per mail. */
  digestMinutes?(tenant: TenantConfig): Promise<number>;
  options?: Partial<NotifyOptions>;
}

export interface CheckNewMailContext {
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  timeLeftMs?: () => number;
}

export interface CheckNewMailResult {
  status: 'ok' | 'skipped' | 'tenant_error' | 'netease_error';
  tenantId: string;
  runId: string;
  people: number;
  /** Mailboxes seen for the first time (watermark set to now, nothing sent). */
  firstChecks: number;
  /** Log entries NetEase returned. */
  logEntries: number;
  /** mail/getReceivedMailLogs calls (more than one when NetEase truncated an answer). */
  logQueries: number;
  /** People whose watermark stayed behind `now` because their log could not be read completely this time. */
  logIncompletePeople: number;
  /** Mails found new in this poll (before dedup against the OnceStore). */
  newMails: number;
  /** Messages sent (detailed + summaries). */
  messages: number;
  detailed: number;
  summaries: number;
  /** Mails folded into summaries. */
  aggregatedMails: number;
  /** Mails left for a later poll (no budget, or another worker holds them). */
  deferredMails: number;
  /** Mails already notified (OnceStore said completed). */
  duplicateMails: number;
  /** Mails sent before the mailbox's first check. */
  oldMails: number;
  /** People the vendor refused for good. */
  failedPeople: number;
  /** Log entries matching no account of the batch. */
  unattributed: number;
  /** People not started because the invocation ran out of time (the next poll covers them). */
  leftForNextRun: number;
  /** Watermarks written. */
  watermarks: number;
  /** Messages whose link opens the mail itself (`mid` found with mailbox/listMessages). */
  mailLinks: number;
  /** Messages whose link opens the inbox (summaries, and mails whose id was not found). */
  inboxLinks: number;
  /** Mails held for the end of the person's digest window. */
  digestDeferred: number;
  errorCode?: string;
}

const NAMESPACE = 'notify';

/** Check a batch for new mail and notify; see the file comment for the rules. */
export async function checkNewMail(deps: CheckNewMailDeps, job: NotifyJob, ctx: CheckNewMailContext = {}): Promise<CheckNewMailResult> {
  const opts: NotifyOptions = { ...DEFAULT_NOTIFY_OPTIONS, ...deps.options };
  const log = deps.logger.child({ tenant: job.tenantId, runId: job.runId, channel: job.channel });
  const result = emptyResult(job);

  const tenant = deps.tenant(job.tenantId);
  if (!tenant || !tenant.notifications.enabled || tenant.notifications.channel !== job.channel) {
    // Config changed since the planner ran: nothing to do, and nothing to retry.
    log.warn('notify batch skipped: the tenant is unknown or its notifications are off or on another channel', { people: job.people.length });
    return { ...result, status: 'skipped' };
  }

  const now = deps.clock.now();
  // One entry per mailbox; the first vendor user listed for it gets the message.
  const people = new Map<string, string>();
  for (const p of job.people) if (!people.has(p.account.toLowerCase())) people.set(p.account.toLowerCase(), p.userId);
  const watermarks = await deps.notifyStore.getWatermarks(tenant.id, [...people.keys()]);

  // 1. First check of a mailbox: start watching now.
  const fresh = [...people.keys()].filter((a) => !watermarks.has(a));
  await pool(fresh, opts.concurrency, async (account) => {
    if (await deps.notifyStore.putWatermark({ tenantId: tenant.id, account, since: now, until: now, recent: [] })) result.watermarks++;
  });
  result.firstChecks = fresh.length;
  const known = [...watermarks.values()];
  if (known.length === 0) {
    log.info('new-mail check', summaryFields(result));
    return result;
  }

  // 2. One mail-log read for the batch (narrowed when NetEase truncates it).
  const windowStart = (w: MailWatermark) => Math.max(w.since, w.until - opts.overlapMs, now - opts.maxCatchUpMs);
  let read: MailLogRead;
  try {
    const reader = await deps.mailLogs(tenant);
    read = await readMailLogs(
      reader,
      known.map((w) => ({ account: w.account, start: windowStart(w), readUntil: w.until })),
      now,
      { maxQueries: opts.maxLogQueries, minWindowMs: opts.minLogWindowMs },
    );
  } catch (err) {
    if (isRetryable(err)) throw err;
    log.error('netease mail log read refused; watermarks kept, nothing sent', { code: codeOf(err), err });
    return { ...result, status: 'netease_error', errorCode: codeOf(err) };
  }
  const entries: MailLogEntry[] = read.entries;
  const coveredUntil = (account: string): number => Math.min(now, read.coveredUntil.get(account) ?? now);
  result.logEntries = entries.length;
  result.logQueries = read.queries;
  result.logIncompletePeople = known.filter((w) => coveredUntil(w.account) < now).length;
  reportLogGaps(log, read, result.logIncompletePeople, opts);
  const attributed = attributeEntries(entries, new Set(known.map((w) => w.account)));
  result.unattributed = attributed.unattributed;

  // 3-5. Per person, a few at a time.
  const sender = await deps.sender(tenant, job.channel, job.channelId);
  const url = buildNotificationLink({ ssoBaseUrl: tenant.sso.publicBaseUrl ?? deps.ssoBaseUrl, tenantId: tenant.id, via: job.channel, ...(job.channelId ? { channelId: job.channelId } : {}) });
  const digestMs = ((await deps.digestMinutes?.(tenant)) ?? 0) * 60_000;
  const lister = deps.mailbox ? await deps.mailbox(tenant).catch(() => undefined) : undefined;
  // The link of a notice about one mail: the mail itself when its id is found, else the inbox.
  const linkFor = async (mail: DetectedMail): Promise<string> => {
    const found = lister ? await findMessageId(lister, mail) : undefined;
    if (found?.mid) {
      result.mailLinks++;
      return buildNotificationLink({ ssoBaseUrl: tenant.sso.publicBaseUrl ?? deps.ssoBaseUrl, tenantId: tenant.id, via: job.channel, ...(job.channelId ? { channelId: job.channelId } : {}), mid: found.mid });
    }
    if (found) log.debug('mail id not found; the notice opens the inbox', { account: mail.account, outcome: found.outcome, code: found.outcome === 'failed' ? found.code : undefined });
    result.inboxLinks++;
    return url;
  };
  let stop: NotifySendError | undefined;
  await pool(known, opts.concurrency, async (wm) => {
    if (stop) return;
    if (ctx.timeLeftMs && ctx.timeLeftMs() < opts.deadlineMarginMs) {
      result.leftForNextRun++;
      return;
    }
    const userId = people.get(wm.account) as string;
    const mails = attributed.byAccount.get(wm.account) ?? [];
    try {
      await handlePerson({
        deps,
        opts,
        tenant,
        channel: job.channel,
        sender,
        url,
        linkFor,
        digestMs,
        now,
        coveredUntil: coveredUntil(wm.account),
        narrowed: read.narrowed.has(wm.account),
        wm,
        userId,
        mails,
        windowStart: windowStart(wm),
        result,
        log,
      });
    } catch (err) {
      const e = err instanceof NotifySendError ? err : undefined;
      if (e && e.scope === 'person') {
        // handlePerson already recorded the person as handled; nothing else to do.
        return;
      }
      stop ??= e ?? new NotifySendError(isRetryable(err) ? 'retry' : 'tenant', codeOf(err), err instanceof Error ? err.message : String(err), err);
    }
  });

  if (stop?.scope === 'tenant') {
    log.error('notifications refused for the whole tenant; watermarks kept, the next poll tries again', { code: stop.code, err: stop });
    result.status = 'tenant_error';
    result.errorCode = stop.code;
  }
  log.info('new-mail check', summaryFields(result));
  if (result.messages > 0) deps.metrics.count('NoticesSent', result.messages, { vendor: job.channel, tenant: job.tenantId });
  if (stop?.scope === 'retry') throw stop.cause instanceof AppError ? stop.cause : stop;
  return result;
}

/** A result with every count at 0. */
function emptyResult(job: NotifyJob): CheckNewMailResult {
  return {
    status: 'ok',
    tenantId: job.tenantId,
    runId: job.runId,
    people: job.people.length,
    firstChecks: 0,
    logEntries: 0,
    logQueries: 0,
    logIncompletePeople: 0,
    newMails: 0,
    messages: 0,
    detailed: 0,
    summaries: 0,
    aggregatedMails: 0,
    deferredMails: 0,
    duplicateMails: 0,
    oldMails: 0,
    failedPeople: 0,
    unattributed: 0,
    leftForNextRun: 0,
    watermarks: 0,
    mailLinks: 0,
    inboxLinks: 0,
    digestDeferred: 0,
  };
}

/** Logs where NetEase truncated the mail log (narrowed queries, or mailboxes left unresolved). */
function reportLogGaps(log: Logger, read: MailLogRead, incompletePeople: number, opts: NotifyOptions): void {
  if (read.truncated > 0) {
    log.warn('netease returned fewer log entries than its total; the query was narrowed', {
      queries: read.queries,
      truncatedAnswers: read.truncated,
      budgetExhausted: read.exhausted,
      // These people's watermarks stay where their log was read completely: the next poll reads on from there.
      incompletePeople,
    });
  }
  if (read.unresolved.length > 0) {
    log.error('netease still truncated the mail log of a mailbox within the shortest window; some of its mails may not be notified', {
      accounts: read.unresolved,
      minWindowMs: opts.minLogWindowMs,
    });
  }
}

interface PersonCtx {
  deps: CheckNewMailDeps;
  opts: NotifyOptions;
  tenant: TenantConfig;
  channel: NotifyChannel;
  sender: NotificationSender;
  url: string;
  /** The link for a notice about one mail (find-message.ts). */
  linkFor(mail: DetectedMail): Promise<string>;
  /** Digest window (ms); 0 = a message per mail. */
  digestMs: number;
  now: number;
  /** The person's log is known complete up to here (`now` unless NetEase truncated it): the watermark's limit. */
  coveredUntil: number;
  /** NetEase truncated this person's log this time: record progress even when idle (a lagging watermark widens the next window). */
  narrowed: boolean;
  wm: MailWatermark;
  userId: string;
  mails: DetectedMail[];
  windowStart: number;
  result: CheckNewMailResult;
  log: Logger;
}

interface Lease {
  mail: DetectedMail;
  key: string;
  token: string;
}

async function handlePerson(c: PersonCtx): Promise<void> {
  const { deps, opts, tenant, wm, now, result } = c;
  const recentIds = new Set(wm.recent.map((r) => r.id));
  const seen = new Set<string>();
  const candidates: DetectedMail[] = [];
  for (const m of c.mails) {
    if (m.sentAt < wm.since) {
      result.oldMails++;
      continue;
    }
    if (m.sentAt < c.windowStart || recentIds.has(m.id) || seen.has(m.id)) continue;
    seen.add(m.id);
    candidates.push(m);
  }
  // Oldest first; within one second (sendtime has no more precision) the log's own order.
  candidates.sort((a, b) => a.sentAt - b.sentAt);

  if (candidates.length === 0) {
    if (now - wm.until >= opts.refreshMs || (c.narrowed && c.coveredUntil > wm.until)) await advance(c, c.coveredUntil, []);
    return;
  }
  result.newMails += candidates.length;

  // Digest mode: one message per window; mails inside an open window wait for its end (digest.ts).
  if (c.digestMs > 0 && (await openDigestWindow(deps.cache, tenant.id, wm.account, now, c.digestMs)) !== undefined) {
    result.deferredMails += candidates.length;
    result.digestDeferred += candidates.length;
    return;
  }

  const budget = await loadBudget(deps.cache, { tenantId: tenant.id, channel: c.channel, account: wm.account, now, windows: opts.limits[c.channel] });
  if (budget.remaining === 0) {
    // Nothing may be sent now: keep them for a poll with budget (the watermark stays).
    result.deferredMails += candidates.length;
    c.log.info('new mail deferred: the person reached the vendor limit', { account: wm.account, userId: c.userId, mails: candidates.length });
    return;
  }

  // Take each mail's lease; mails done by an earlier delivery are skipped, mails another
  // worker is sending right now wait for the next poll.
  const leases: Lease[] = [];
  const handled: DetectedMail[] = [];
  let deferred = 0;
  for (const mail of candidates) {
    const key = `mail:${wm.account}:${mail.id}`;
    const b = await deps.once.begin(tenant.id, NAMESPACE, key, { leaseSeconds: opts.leaseSeconds, ttlSeconds: opts.dedupTtlSeconds });
    if (b.status === 'acquired') leases.push({ mail, key, token: b.token });
    else if (b.status === 'completed') {
      handled.push(mail);
      result.duplicateMails++;
    } else deferred++;
  }

  const detailedMax = c.digestMs > 0 ? 1 : Math.max(1, Math.min(budget.remaining, opts.maxDetailedPerPoll));
  const detailed = leases.length <= detailedMax ? leases : leases.slice(0, detailedMax - 1);
  const folded = leases.slice(detailed.length);
  const pending = [...leases];
  try {
    for (const lease of detailed) {
      await c.sender.send(c.userId, { kind: 'mail', subject: lease.mail.subject, from: lease.mail.from, sentAtText: lease.mail.sentAtText, url: await c.linkFor(lease.mail) });
      budget.consume();
      result.messages++;
      result.detailed++;
      await done(c, [lease], { kind: 'mail' });
      pending.splice(pending.indexOf(lease), 1);
      handled.push(lease.mail);
    }
    if (folded.length > 0) {
      const latest = folded[folded.length - 1]!.mail;
      const notice: Notice = {
        kind: 'summary',
        count: folded.length,
        latest: { subject: latest.subject, from: latest.from, sentAtText: latest.sentAtText },
        firstAtText: folded[0]!.mail.sentAtText,
        url: c.url,
      };
      await c.sender.send(c.userId, notice);
      budget.consume();
      result.messages++;
      result.summaries++;
      result.inboxLinks++;
      result.aggregatedMails += folded.length;
      await done(c, folded, { kind: 'summary', count: folded.length });
      pending.length = 0;
      handled.push(...folded.map((l) => l.mail));
    }
  } catch (err) {
    if (!(err instanceof NotifySendError)) {
      // Our own store failed mid-way: give the leases back and let the record fail or stop.
      await Promise.all(pending.map((l) => deps.once.release(tenant.id, NAMESPACE, l.key, l.token).catch(() => false)));
      throw err;
    }
    const e = err;
    if (e.scope === 'person') {
      // This person cannot be reached (not in the vendor org, no licence...): their mails
      // are handled for good, so later polls do not try again and again.
      result.failedPeople++;
      c.log.warn('notification refused for this person; their new mail is marked handled', { account: wm.account, userId: c.userId, code: e.code, mails: pending.length });
      await done(c, pending, { kind: 'refused', code: e.code });
      handled.push(...pending.map((l) => l.mail));
      await budget.save();
      await advance(c, deferred > 0 ? wm.until : c.coveredUntil, handled);
      throw e;
    }
    // Retry or tenant-wide: give the leases back so the next attempt need not wait.
    await Promise.all(pending.map((l) => deps.once.release(tenant.id, NAMESPACE, l.key, l.token).catch(() => false)));
    result.deferredMails += pending.length;
    await budget.save();
    // What was sent stays recorded; the watermark stays where it was.
    if (handled.length > 0) await advance(c, wm.until, handled);
    throw e;
  }
  await budget.save();
  if (c.digestMs > 0 && handled.length > 0) await startDigestWindow(deps.cache, tenant.id, wm.account, now, c.digestMs);
  result.deferredMails += deferred;
  // A mail another worker still holds keeps the watermark back, so it is read again; so
  // does a log NetEase truncated (the watermark stops where it was read completely).
  await advance(c, deferred > 0 ? wm.until : c.coveredUntil, handled);
}

async function done(c: PersonCtx, leases: readonly Lease[], outcome: Record<string, unknown>): Promise<void> {
  const at = c.deps.clock.now();
  await Promise.all(leases.map((l) => c.deps.once.complete(c.tenant.id, NAMESPACE, l.key, { ...outcome, at }, { ttlSeconds: c.opts.dedupTtlSeconds })));
}

/** Store the watermark at `until` with the handled mails added to `recent` (pruned to the re-read window). */
async function advance(c: PersonCtx, until: number, handled: readonly DetectedMail[]): Promise<void> {
  const floor = until - c.opts.overlapMs - 1000;
  const byId = new Map<string, number>();
  for (const r of [...c.wm.recent, ...handled.map((m) => ({ id: m.id, at: m.sentAt }))]) if (r.at >= floor) byId.set(r.id, r.at);
  const recent = [...byId.entries()]
    .map(([id, at]) => ({ id, at }))
    .sort((a, b) => a.at - b.at)
    .slice(-MAX_RECENT_MAILS);
  if (await c.deps.notifyStore.putWatermark({ tenantId: c.tenant.id, account: c.wm.account, since: c.wm.since, until: Math.max(until, c.wm.until), recent })) c.result.watermarks++;
}

function codeOf(err: unknown): string {
  return err instanceof AppError ? err.code : 'INTERNAL';
}

function summaryFields(r: CheckNewMailResult): Record<string, unknown> {
  const { tenantId: _t, runId: _r, ...counts } = r;
  return counts;
}

/** Run `fn` over `items`, at most `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
}

