/**
 * The notify planner's use case (scheduled every minute): for each tenant with
 * notifications on, list the people whose mailboxes to check and fan them out in batches
 * to the `notify` queue, where the notify worker polls NetEase and sends the messages.
 *
 * Each batch is sent twice: at once, and again with a 30 s SQS delay (`secondPollDelaySeconds`).
 * With the 1-minute schedule that is a poll every 30 s with no function kept running, so a
 * mail waits at most ~30 s for its poll (the schedule wait the latency target includes). The
 * second poll of a mailbox with nothing new costs one NetEase log read and no vendor call;
 * a mail both polls see is sent once (OnceStore leases, watermarks).
 *
 * A tenant whose channel's monthly API quota is spent (DingTalk 90020) is skipped: its
 * notices would only be refused (use-cases/usage/quota-guard.ts).
 *
 * Who is checked:
 * - `notifications.tenantWide`: every person mapping of the tenant's sync source in status
 *   `active` or `linked` (suspended and deleted people get nothing);
 * - otherwise: only people who opted in (NotifyStore opt-ins), if their mapping is
 *   active or linked.
 * The vendor user id is the mapping's source id, which is why the notification channel
 * must be the sync source: a DingTalk-sourced tenant's source ids ARE DingTalk userids
 * (a WeCom-sourced one's are WeCom UserIDs); an EKP-sourced tenant has no vendor ids to
 * send to. Such a tenant is skipped with a warning that says so.
 *
 * A tenant whose channel secret is missing or unusable is skipped with a warning (nothing
 * could be sent); other tenants go ahead. A failure of one tenant (store, queue) is logged
 * and does not stop the others; the run reports it.
 *
 * Why polling and not NetEase push-mail: the open platform can POST each new mail as JSON
 * (`push/addDynamicSubscribe` + `addPushMailSubscribe`, reference netease-qiye-api.md §4,
 * keys From/Subject/To/Content...), but the reference documents no signature, token or
 * source address for those POSTs. A public route accepting them would let anyone who
 * learns the URL make us send "new mail" messages with any sender and subject into a
 * company's DingTalk or WeCom: a phishing channel with our name on it. It stays out until
 * the origin can be verified (a documented signature or shared secret header from
 * NetEase, or at least published source IP ranges to allow-list), and even then the
 * push would only trigger a log read for that account, never be trusted for content.
 */
import type { NotifyChannel, NotifyJob, NotifyPerson } from '../../contracts/notify-job';
import { DEFAULT_NOTIFY_BATCH_SIZE, MAX_NOTIFY_BATCH_SIZE } from '../../contracts/notify-job';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AppError, ValidationError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { JobQueue } from '../../ports/job-queue';
import type { NotifyStore } from '../../ports/notify-store';
import type { MappingRecord, MappingStore } from '../../ports/mapping-store';
import { newRunId } from '../../ports/run-store';
import type { UsageStore } from '../../ports/usage-meter';
import { quotaSpentReason } from '../usage/quota-guard';
import type { IdentityLinkStore } from '../../ports/identity-link-store';
import { hasNativeChannel, linkedRecipients } from './linked-recipients';

export interface PlanNotificationsDeps {
  tenants: readonly TenantConfig[];
  mappings: MappingStore;
  notifyStore: NotifyStore;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  /**
   * Whether the tenant's channel credentials are present and usable (the secret exists
   * and holds the app secret the channel needs). `reason` is shown in the warning; it must
   * name the secret, never a value.
   */
  channelReady(tenant: TenantConfig, channel: NotifyChannel): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** People per queue message (1-100); default 50. */
  batchSize?: number;
  /** Delay of the second poll of each batch (s, 0-900); 0 = no second poll. Default 30. */
  secondPollDelaySeconds?: number;
  /** Vendor API usage: tenants whose channel quota is spent are skipped. */
  usage?: UsageStore;
  /** Identity links: notices to a channel that is not the directory source (./linked-recipients.ts). */
  links?: IdentityLinkStore;
}

export interface TenantPlan {
  tenantId: string;
  status: 'planned' | 'skipped' | 'failed';
  people: number;
  batches: number;
  reason?: string;
}

export interface PlanNotificationsResult {
  runId: string;
  status: 'ok' | 'partial';
  tenants: TenantPlan[];
  people: number;
  batches: number;
}

const ELIGIBLE: ReadonlySet<MappingRecord['status']> = new Set(['active', 'linked']);

/** Plan one round of new-mail checks for every tenant; see the file comment. */
export async function planNotifications(deps: PlanNotificationsDeps): Promise<PlanNotificationsResult> {
  const batchSize = deps.batchSize ?? DEFAULT_NOTIFY_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_NOTIFY_BATCH_SIZE) {
    throw new ValidationError(`batchSize must be an integer from 1 to ${MAX_NOTIFY_BATCH_SIZE}`, { code: 'NOTIFY.BAD_BATCH_SIZE' });
  }
  const now = deps.clock.now();
  const runId = newRunId(now);
  const log = deps.logger.child({ runId });
  const plans: TenantPlan[] = [];

  for (const tenant of deps.tenants) {
    if (!tenant.notifications.enabled) continue;
    const tlog = log.child({ tenant: tenant.id });
    try {
      plans.push(await planTenant(deps, tenant, { runId, now, batchSize, log: tlog }));
    } catch (err) {
      tlog.error('notify planning failed for this tenant; the others go ahead', { code: err instanceof AppError ? err.code : 'INTERNAL', err });
      plans.push({ tenantId: tenant.id, status: 'failed', people: 0, batches: 0, reason: err instanceof AppError ? err.code : 'INTERNAL' });
    }
  }

  const result: PlanNotificationsResult = {
    runId,
    status: plans.some((p) => p.status === 'failed') ? 'partial' : 'ok',
    tenants: plans,
    people: plans.reduce((n, p) => n + p.people, 0),
    batches: plans.reduce((n, p) => n + p.batches, 0),
  };
  log.info('notify planning done', { status: result.status, tenants: plans.length, people: result.people, batches: result.batches });
  return result;
}

async function planTenant(deps: PlanNotificationsDeps, tenant: TenantConfig, r: { runId: string; now: number; batchSize: number; log: Logger }): Promise<TenantPlan> {
  const channel = tenant.notifications.channel;
  const source = tenant.sync.source;
  const skip = (reason: string): TenantPlan => {
    r.log.warn(`notifications skipped: ${reason}`, { channel, source });
    return { tenantId: tenant.id, status: 'skipped', people: 0, batches: 0, reason };
  };
  // The config schema requires a channel when notifications are on; belt and braces.
  if (!channel) return skip('no notification channel is configured');
  if (source && !hasNativeChannel(tenant, channel) && deps.links) {
    const ready = await deps.channelReady(tenant, channel);
    if (!ready.ok) return skip(`the ${channel} credentials are not usable: ${ready.reason}`);
    const groups = await linkedRecipients({ mappings: deps.mappings, notifyStore: deps.notifyStore, links: deps.links, eligible: (m) => ELIGIBLE.has(m.status) && isUsable(m) }, tenant, channel, source);
    return sendJobs(deps, tenant, r, groups);
  }
  if (source !== channel) {
    return skip(`the channel is ${channel} but the directory source is ${source ?? 'not set'}: notifications need ${channel} user ids, which only a ${channel}-sourced tenant has`);
  }
  const ready = await deps.channelReady(tenant, channel);
  if (!ready.ok) return skip(`the ${channel} credentials are not usable: ${ready.reason}`);
  const spent = await quotaSpentReason(deps, tenant, channel);
  if (spent) return skip(spent);

  const people: NotifyPerson[] = [];
  const accounts = new Set<string>();
  const add = (m: MappingRecord) => {
    if (!ELIGIBLE.has(m.status)) return;
    const key = m.neteaseId.toLowerCase();
    // One check per mailbox, even if two source ids point at it.
    if (accounts.has(key)) return;
    if (!isUsable(m)) {
      r.log.warn('person skipped: the ids do not fit a notify message', { sourceId: m.sourceId.slice(0, 64) });
      return;
    }
    accounts.add(key);
    people.push({ userId: m.sourceId, account: m.neteaseId });
  };

  if (tenant.notifications.tenantWide) {
    for await (const m of deps.mappings.list(tenant.id, channel, 'person', { pageSize: 500 })) add(m);
  } else {
    for await (const o of deps.notifyStore.listOptIns(tenant.id, channel)) {
      const m = await deps.mappings.get({ tenantId: tenant.id, source: channel, objectType: 'person', sourceId: o.sourceId });
      if (m) add(m);
    }
  }

  return sendJobs(deps, tenant, r, [{ people }]);
}

/** Batch each group (one per channel app) into notify jobs and queue them. */
async function sendJobs(deps: PlanNotificationsDeps, tenant: TenantConfig, r: { runId: string; now: number; batchSize: number; log: Logger }, groups: ReadonlyArray<{ channelId?: string; people: NotifyPerson[] }>): Promise<TenantPlan> {
  const channel = tenant.notifications.channel!;
  const jobs: NotifyJob[] = [];
  let total = 0;
  for (const g of groups) {
    total += g.people.length;
    for (let i = 0; i < g.people.length; i += r.batchSize) {
      jobs.push({ v: 1, tenantId: tenant.id, runId: r.runId, channel, ...(g.channelId ? { channelId: g.channelId } : {}), plannedAt: r.now, people: g.people.slice(i, i + r.batchSize) });
    }
  }
  const delay = deps.secondPollDelaySeconds ?? 30;
  if (jobs.length > 0) await deps.jobs.send('notify', [...jobs.map((body) => ({ body })), ...(delay > 0 ? jobs.map((body) => ({ body, delaySeconds: delay })) : [])]);
  r.log.info('notify batches sent', { people: total, batches: jobs.length, tenantWide: tenant.notifications.tenantWide });
  return { tenantId: tenant.id, status: 'planned', people: total, batches: jobs.length };
}

/** The ids must pass the message schema (a vendor id with a comma or space cannot be messaged). */
function isUsable(m: MappingRecord): boolean {
  return /^[^\u0000-\u001f\u007f,|\s]{1,128}$/.test(m.sourceId) && /^[^@,\s]{1,128}$/.test(m.neteaseId);
}
