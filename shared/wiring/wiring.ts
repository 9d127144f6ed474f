/**
 * The composition root of a process: the only place that picks concrete adapters.
 *
 * `getWiring('<function name>')` gives a function's handler its use cases' dependencies,
 * built on the process's runtime (shared/runtime/runtime.ts: env, tenant config, DynamoDB,
 * SQS, secrets) and ONE set of tenant clients per process (./tenant-clients.ts: NetEase,
 * DingTalk, WeCom, EKP, CAS; one rate limiter per tenant and vendor). In the local stack
 * every function runs in one process and so shares those clients and limiters, and so does
 * the first start's links pull (local/first-links.ts, through `getWiring`); the CLI on a
 * deployed stage gets the admin function's wiring from ./stage.ts (`stageWiring`).
 *
 * Vendor API metering (./usage.ts): one meter per process, handed to the tenant clients so
 * every DingTalk and WeCom call is counted; `flushing(fn)` wraps a handler so the counts are
 * written before its invocation returns, and `flush()` writes them for a caller that is not
 * a handler (the CLI before it exits, the local stack's first links pull).
 *
 * Later features plug in here: a new use case gets a `*Deps()` builder below, a new vendor
 * call gets a port in shared/ports/ and a client in tenant-clients.ts.
 */
import { createDynamoStateStores } from '../adapters/aws/dynamo-state.store';
import { DynamoDirtyStore } from '../adapters/aws/dynamo-dirty.store';
import { DynamoNotifyStore } from '../adapters/aws/dynamo-notify.store';
import { DynamoLinkStore } from '../adapters/aws/dynamo-link.store';
import type { LinksDeps } from '../use-cases/links/links-deps';
import { linksDepsOf } from './links';
import { DingtalkCallbackVerifier } from '../adapters/dingtalk/dingtalk.callback-verifier';
import { WecomCallbackVerifier } from '../adapters/wecom/wecom.callback-verifier';
import type { Context } from 'aws-lambda';
import type { FunctionName } from '../contracts/app-manifest';
import type { ContactEventVendor } from '../contracts/contact-event';
import type { NotifyChannel } from '../contracts/notify-job';
import { findChannel } from '../config/channels';
import type { TenantConfig, TenantsFile } from '../config/tenant-config.schema';
import { ConfigError, NotConfiguredError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import { configureMetrics } from '../observability/metrics';
import type { CallbackVerifier } from '../ports/callback-verifier';
import type { SecretStore } from '../ports/secret-store';
import type { StateStores } from '../ports/state-stores';
import type { UsageStore } from '../ports/usage-meter';
import { getRuntime, type Runtime } from '../runtime/runtime';
import type { ApplyContactEventsDeps } from '../use-cases/callbacks/apply-contact-events';
import type { AcceptCallbackDeps } from '../use-cases/callbacks/accept-callback';
import type { ConsoleDeps } from '../use-cases/console/console-deps';
import type { AlertDeps } from '../use-cases/console/raise-alerts';
import { loadTenantSigner } from '../use-cases/manage-keys';
import type { CheckNewMailDeps } from '../use-cases/notify/check-new-mail';
import { digestWindow } from '../use-cases/notify/digest';
import type { PlanNotificationsDeps } from '../use-cases/notify/plan-notifications';
import type { SignInDeps } from '../use-cases/sso/sign-in';
import type { SyncOptions } from '../use-cases/sync/sync-deps';
import type { TenantScheduleDeps } from '../use-cases/sync/tenant-schedule';
import type { UnreadDeps } from '../use-cases/unread/unread-count';
import type { BudgetCheckDeps, UsageDeps } from '../use-cases/usage/usage-report';
import { alertsDepsOf, consoleDepsOf } from './console';
import { knownIdsFromMappings, neteaseShareFor, syncDepsOf, type SyncFunction } from './sync';
import { createTenantClients, type TenantClients } from './tenant-clients';
import { budgetMetric, flushingUsage, processUsage } from './usage';
import { processMetrics } from './metrics';

/** The callback verifier of each vendor (stateless: crypto and parsing only). */
export const CALLBACK_VERIFIERS: Readonly<Record<ContactEventVendor, CallbackVerifier>> = {
  dingtalk: new DingtalkCallbackVerifier(),
  wecom: new WecomCallbackVerifier(),
};

/** What a function's handler is built from. */
export interface Wiring {
  readonly rt: Runtime;
  readonly stores: StateStores;
  readonly clients: TenantClients;
  /** The vendor API usage counters (the process's meter writes them). */
  readonly usage: UsageStore;
  /** `fn`, with the process's usage counts written before each invocation returns (./usage.ts). */
  flushing<E, R>(fn: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
  /** Write the process's pending usage counts now. */
  flush(): Promise<void>;
  /** The sync engine's dependencies (with usage and the budget metric); `fn` sets the NetEase rate share (default: this function's). */
  syncDeps(fn?: SyncFunction, options?: Partial<SyncOptions>): TenantScheduleDeps;
  signInDeps(): SignInDeps & { config: TenantsFile; logger: Logger };
  unreadDeps(): UnreadDeps & { config: TenantsFile };
  acceptCallbackDeps(): AcceptCallbackDeps;
  contactEventsDeps(): ApplyContactEventsDeps;
  checkNewMailDeps(): CheckNewMailDeps;
  planNotificationsDeps(): PlanNotificationsDeps & Pick<BudgetCheckDeps, 'metric'>;
  /** The operator console (shared/wiring/console.ts); its sync engine runs with the admin's NetEase share. */
  consoleDeps(): ConsoleDeps;
  alertsDeps(): AlertDeps;
  /** The identity links' dependencies (links pull, callback refresh, CLI). */
  linksDeps(): LinksDeps;
  /** The usage report (admin route). */
  usageDeps(): UsageDeps;
}

const wirings = new Map<string, { rt: Runtime; wiring: Wiring }>();
// One TenantClients per secret store (that is, per runtime core) and NetEase share: in a
// Lambda one per process; in the local stack one for every function.
const clientsByCore = new WeakMap<SecretStore, Map<number, TenantClients>>();

/** The process's wiring for `functionName`, built on first call and memoized (like getRuntime). */
export function getWiring(functionName: FunctionName): Wiring {
  const rt = getRuntime(functionName);
  const existing = wirings.get(functionName);
  // A runtime reset (tests, a local stack restart) gives a new runtime: build anew then.
  if (existing && existing.rt === rt) return existing.wiring;
  // Cold start of this function: its counts carry the manifest's name as `function`.
  if (!existing) configureMetrics({ functionName });
  const wiring = wiringOf(rt, functionName);
  wirings.set(functionName, { rt, wiring });
  return wiring;
}

/** The process's tenant clients for a runtime and NetEase share. */
export function tenantClientsFor(rt: Runtime, share: number): TenantClients {
  let byShare = clientsByCore.get(rt.secrets);
  if (!byShare) clientsByCore.set(rt.secrets, (byShare = new Map()));
  let clients = byShare.get(share);
  if (!clients) {
    const mappings = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock }).mappings;
    clients = createTenantClients({
      secrets: rt.secrets,
      stage: rt.stage,
      logger: rt.logger,
      clock: rt.clock,
      neteaseShare: share,
      // Every DingTalk / WeCom client of the process counts its calls on the one meter.
      meter: processUsage(rt).meter,
      knownIds: (t, source) => knownIdsFromMappings(mappings, t.id, source),
    });
    byShare.set(share, clients);
  }
  return clients;
}

/**
 * The wiring of `functionName` on a runtime the caller keeps (not memoized): getWiring's for
 * a function, stageWiring's (./stage.ts) for the CLI on a deployed stage.
 */
export function wiringOf(rt: Runtime, functionName: FunctionName): Wiring {
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  const clients = tenantClientsFor(rt, neteaseShareFor(rt, functionName));
  const { meter, store: usage } = processUsage(rt);
  const syncParts = { stores, jobs: rt.jobs, clock: rt.clock, logger: rt.logger, tenants: () => rt.tenants.tenants, usage };
  const oaLinkSecret = async (t: TenantConfig) => (await rt.tenantSecret(t.id, 'oa')).linkSecret;
  const links = new DynamoLinkStore(rt.ddb, rt.tableName, { clock: rt.clock });
  const usageDeps: UsageDeps = { usage, clock: rt.clock, tenant: (id) => rt.tenant(id) };
  const linksDeps = linksDepsOf({ links, clients, clock: rt.clock, logger: rt.logger });
  return {
    rt,
    stores,
    clients,
    usage,
    flushing: (fn) => flushingUsage(meter, fn),
    flush: () => meter.flush(),
    syncDeps(fn = functionName as SyncFunction, options = {}) {
      const c = fn === functionName ? clients : tenantClientsFor(rt, neteaseShareFor(rt, fn));
      // QIYE_SYNC_STUCK_SECONDS: how long a run may make no progress before it is taken over (crash tests use seconds).
      const stuck = rt.env.QIYE_SYNC_STUCK_SECONDS !== undefined ? { stuckAfterMs: rt.env.QIYE_SYNC_STUCK_SECONDS * 1000 } : {};
      // QIYE_SYNC_OP_LEASE_SECONDS: how long a dead delivery's operations stay leased (crash tests shorten it).
      const lease = rt.env.QIYE_SYNC_OP_LEASE_SECONDS !== undefined ? { opLeaseSeconds: rt.env.QIYE_SYNC_OP_LEASE_SECONDS } : {};
      return { ...syncDepsOf(syncParts, c, { ...stuck, ...lease, ...options }), metric: budgetMetric };
    },
    signInDeps: () => ({
      config: rt.tenants,
      logger: rt.logger,
      clock: rt.clock,
      mappings: stores.mappings,
      once: stores.once,
      oaLinkSecret,
      signer: (t) => loadTenantSigner({ secrets: rt.secrets, stage: rt.stage, tenantId: t.id, logger: rt.logger }),
      vendorSso: (t, vendor, channelId) => clients.signInIdentity(t, vendor, channelId),
      links,
      cas: (t) => clients.cas(t),
      ...optionalUrl('ssoBaseUrl', rt.env.QIYE_SSO_BASE_URL ?? rt.env.QIYE_PUBLIC_BASE_URL),
    }),
    unreadDeps: () => ({
      config: rt.tenants,
      logger: rt.logger,
      clock: rt.clock,
      mappings: stores.mappings,
      once: stores.once,
      cache: stores.cache,
      ...optionalUrl('ssoBaseUrl', rt.env.QIYE_SSO_BASE_URL),
      ...optionalUrl('apiBaseUrl', rt.env.QIYE_PUBLIC_BASE_URL),
      oaLinkSecret,
      unreadCount: async (t, account) => (await clients.neteaseMailbox(t)).getUnreadCount(account),
    }),
    acceptCallbackDeps: () => ({
      tenant: (id) => rt.tenant(id),
      callbackSecret: (t, channel) => rt.tenantSecret(t.id, channel.vendor, channel.id),
      once: stores.once,
      jobs: rt.jobs,
      clock: rt.clock,
      logger: rt.logger,
      metrics: processMetrics,
    }),
    contactEventsDeps: () => ({
      // The worker only reads the source and plans: the planner's dependencies and NetEase share.
      sync: syncDepsOf(syncParts, tenantClientsFor(rt, neteaseShareFor(rt, 'syncPlanner'))),
      dirty: new DynamoDirtyStore(rt.ddb, rt.tableName, { clock: rt.clock }),
      links: linksDeps,
    }),
    checkNewMailDeps: () => ({
      tenant: (id) => rt.tenant(id),
      notifyStore: new DynamoNotifyStore(rt.ddb, rt.tableName, { clock: rt.clock }),
      once: stores.once,
      cache: stores.cache,
      clock: rt.clock,
      logger: rt.logger,
      metrics: processMetrics,
      ssoBaseUrl: notificationSsoBaseUrl(rt),
      mailLogs: (t) => clients.neteaseMailbox(t),
      // The same client lists mailboxes (mailbox/listMessages), so a notice opens its mail.
      mailbox: (t) => clients.neteaseMailbox(t),
      digestMinutes: digestWindow({ usage, clock: rt.clock }),
      sender: (t, channel, channelId) => clients.noticeSender(t, channel, channelId),
    }),
    planNotificationsDeps: () => ({
      tenants: rt.tenants.tenants,
      mappings: stores.mappings,
      notifyStore: new DynamoNotifyStore(rt.ddb, rt.tableName, { clock: rt.clock }),
      jobs: rt.jobs,
      clock: rt.clock,
      logger: rt.logger,
      channelReady: secretChannelCheck(rt),
      usage,
      metric: budgetMetric,
      links,
    }),
    usageDeps: () => usageDeps,
    consoleDeps: () =>
      consoleDepsOf(rt, stores, clients, syncDepsOf(syncParts, tenantClientsFor(rt, neteaseShareFor(rt, 'admin'))), usageDeps),
    alertsDeps: () => alertsDepsOf(rt, stores, clients, usageDeps),
    linksDeps: () => linksDeps,
  };
}

/** Links in notices go to the SSO Function URL when known, else the HTTP API's /sso route. */
function notificationSsoBaseUrl(rt: Runtime): string {
  const url = rt.env.QIYE_SSO_BASE_URL ?? rt.env.QIYE_PUBLIC_BASE_URL;
  if (!url) {
    throw new ConfigError('Function environment is invalid:', [{ file: 'env', path: 'QIYE_SSO_BASE_URL', reason: 'QIYE_SSO_BASE_URL or QIYE_PUBLIC_BASE_URL is required to link notifications to SSO' }]);
  }
  return url;
}

/**
 * The channel secret must exist and hold the app secret that sends messages: DingTalk's
 * `appSecret` (asyncsend_v2 uses the app's token), WeCom's self-built app `appSecret`
 * (message/send is refused with the 通讯录同步 secret, reference wecom.md §4-6).
 */
export function secretChannelCheck(rt: Pick<Runtime, 'tenantSecret'>) {
  return async (tenant: TenantConfig, channel: NotifyChannel): Promise<{ ok: true } | { ok: false; reason: string }> => {
    try {
      // The first channel of that vendor: the top-level section, else the first extra one.
      const secret = await rt.tenantSecret(tenant.id, channel, findChannel(tenant, channel)?.id);
      if (!secret.appSecret) return { ok: false, reason: `the tenant's ${channel} secret has no appSecret (the self-built app's secret sends app messages)` };
      return { ok: true };
    } catch (err) {
      if (err instanceof NotConfiguredError) return { ok: false, reason: err.message };
      throw err;
    }
  };
}

/** `{ [key]: url }` when the stack output is set, else nothing (exactOptionalPropertyTypes). */
function optionalUrl<K extends string>(key: K, url: string | undefined): Partial<Record<K, string>> {
  return url ? ({ [key]: url } as Record<K, string>) : {};
}
