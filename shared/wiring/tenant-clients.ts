/**
 * The per-tenant vendor clients of one process, built once and shared by every caller in
 * it (the functions' handlers, the CLI, the local stack): the NetEase client (legacy API,
 * plus the open platform for unit moves), the directory source, the DingTalk / WeCom /
 * EKP clients with the sign-in identities and notice senders over them, and the CAS
 * validator. Each is returned as the port its use case owns (shared/ports/).
 *
 * Rate limits: ONE limiter per tenant and vendor API in the process (`limiters`, a
 * RateLimiterRegistry; keys `netease:<tenant>`, `dingtalk:...`, `wecom:...`), so the sync,
 * the unread count and the notices of one tenant spend one budget. In the local stack every
 * function shares one process, so one limiter paces them all at the tenant's
 * `requestsPerSecond`. In AWS each concurrent Lambda is its own process: with `neteaseShare`
 * = 1 / maxConcurrency of the sync worker's event source mapping
 * (FUNCTIONS.syncWorker.consumes.maxConcurrency = 5; see ./sync.ts neteaseShareFor), the
 * sum over all workers stays within the tenant's rate. The planner's reads run while no
 * worker of that tenant runs (the tenant's lock), so they are not counted against the share.
 *
 * Unit moves. A tenant with `netease.openPlatform` whose `netease` secret holds an
 * `authCode` gets a NeteaseDirectory with `reparentUnit` (NetEase's open platform
 * unit/moveUnit, reference netease-qiye-api.md §4) and `listAccountsWithStatus` (its
 * unit/getAccountList: every mailbox's unit and status for a full run's reconcile), served by a NeteaseOpenClient that
 * shares the legacy client's limiter (key `netease:<tenant>`): both APIs spend one budget.
 * Without the block or the authCode, the directory is the legacy client alone and moves are
 * reported unsupported. The secret is read on every call (the SecretStore caches it
 * briefly), so adding or removing the authCode switches moves on or off without a restart.
 *
 * Key rotation. The NetEase client is rebuilt when the stored key changes (loadTenantSigner
 * caches signers by the secret's fingerprint, so a rotated key gives a new Signer).
 *
 * EKP deletions. EKP never reports a physical delete in its feed (sync-and-ekp.md §A5), so
 * the EKP source gets `knownIds`: the tenant's mapped ids (the mapping table, tombstones
 * left out), which its changesSince compares with getElementsBaseInfo to report the ones
 * EKP no longer has.
 *
 * Metering. With `meter` (ports/usage-meter.ts; the wiring passes the process's one meter,
 * ./usage.ts), every DingTalk and WeCom client built here counts its calls per tenant, vendor
 * and API; each adapter classifies its own calls as metered or free.
 *
 * WeCom. The source reads the roster with the contact-sync secret and member details with
 * the app secret first, falling back between the two (wecom.client.ts); nothing to wire.
 */
import { secretName, secretSchemas } from '../config/secrets';
import type { TenantConfig } from '../config/tenant-config.schema';
import type { NotifyChannel } from '../contracts/notify-job';
import { channelSecretName, channelView, findChannel, type TenantChannel } from '../config/channels';
import type { ChannelDirectory } from '../ports/channel-directory';
import { directoryAsChannel } from './channel-directory';
import { NotConfiguredError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import type { CasTicketValidator } from '../ports/cas-ticket-validator';
import type { Clock } from '../ports/clock';
import type { DirectorySource } from '../ports/directory-source';
import type { ListedAccountStatus, NeteaseDirectory } from '../ports/netease-directory';
import type { NeteaseMailbox } from '../ports/netease-mailbox';
import type { NotificationSender } from '../ports/notice-channel';
import type { SecretStore } from '../ports/secret-store';
import type { CallMeter } from '../ports/usage-meter';
import type { SignInIdentity, SsoVendor } from '../ports/sign-in-identity';
import type { SourceKind } from '../ports/store-common';
import { loadTenantSigner } from '../use-cases/manage-keys';
import { CasClient } from '../adapters/cas/cas-client';
import { createDingtalkClient, type DingtalkClient } from '../adapters/dingtalk/dingtalk.client';
import { DingtalkDirectorySource } from '../adapters/dingtalk/dingtalk.directory-source';
import { dingtalkSender, type DingtalkNotifier } from '../adapters/dingtalk/dingtalk.notice-sender';
import { DingtalkSignIn } from '../adapters/dingtalk/dingtalk.sign-in';
import { createEkpClient } from '../adapters/ekp/ekp.client';
import { EkpDirectorySource, type KnownIds } from '../adapters/ekp/ekp.directory-source';
import { RateLimiterRegistry } from '../adapters/http/rate-limiter';
import { NeteaseClient, neteaseRateLimiter } from '../adapters/netease/netease.client';
import { NeteaseOpenClient, type NeteaseOpenAccount } from '../adapters/netease/netease-open.client';
import { createWecomClient, type WecomClient } from '../adapters/wecom/wecom.client';
import { WecomDirectorySource } from '../adapters/wecom/wecom.directory-source';
import { wecomSender, type WecomNotifier } from '../adapters/wecom/wecom.notice-sender';
import { WecomSignIn } from '../adapters/wecom/wecom.sign-in';

type OpenPlatformAdditions = Required<Pick<NeteaseDirectory, 'reparentUnit' | 'listAccountsWithStatus' | 'mailLists'>>;

/**
 * `api` plus reparentUnit, listAccountsWithStatus and mailLists from the open platform's
 * client: the same object underneath (prototype), so every method and getter is `api`'s own.
 */
export function withOpenPlatform<A extends NeteaseDirectory>(api: A, open: NeteaseOpenClient): A & OpenPlatformAdditions {
  const withMoves = Object.create(api) as A & OpenPlatformAdditions;
  withMoves.reparentUnit = (unitId, parentUnitId, expect) => open.moveUnit(unitId, parentUnitId, expect);
  withMoves.listAccountsWithStatus = async () => (await open.getAllAccounts()).map(listedAccountStatus);
  withMoves.mailLists = open;
  return withMoves;
}

/** An open-platform account row in the port's terms (§4 status codes). */
export function listedAccountStatus(a: NeteaseOpenAccount): ListedAccountStatus {
  return {
    accountName: a.accountName,
    ...(a.name !== undefined ? { nickname: a.name } : {}),
    ...(a.mobile !== undefined ? { mobile: a.mobile } : {}),
    ...(a.jobNumber !== undefined ? { jobNo: a.jobNumber } : {}),
    ...(a.unitId !== undefined ? { unitId: a.unitId } : {}),
    status: a.status === 0 ? 'active' : a.status === 1 ? 'suspended' : a.status === 2 ? 'deleted' : 'unknown',
  };
}

/** Limiters shared by every client of this process (see the module doc). */
const processLimiters = new RateLimiterRegistry();

export interface TenantClientsOptions {
  secrets: SecretStore;
  stage: string;
  logger?: Logger;
  clock?: Clock;
  /** Share of the tenant's NetEase rate this process may use (0-1]; default 1. */
  neteaseShare?: number;
  /** Limiter registry (default: the one of this process). */
  limiters?: RateLimiterRegistry;
  /**
   * The source ids the sync already maps for a tenant (module doc, "EKP deletions"). Without
   * it the EKP source reports no physical deletions from changesSince (full runs still find them).
   */
  knownIds?: (tenant: TenantConfig, source: SourceKind) => Promise<KnownIds>;
  /** Counts every DingTalk / WeCom call of the clients built here (module doc, "Metering"). */
  meter?: CallMeter;
}

/** Every outbound port of a tenant, built on first use and cached for the life of the process. */
export interface TenantClients {
  /** The tenant's NetEase units and accounts, with `reparentUnit` when the open platform is configured (module doc). */
  neteaseDirectory(tenant: TenantConfig): Promise<NeteaseDirectory>;
  /** The tenant's NetEase mailboxes (unread count, received-mail log). */
  neteaseMailbox(tenant: TenantConfig): Promise<NeteaseMailbox>;
  /** The tenant's directory source (its `sync.source`). */
  directorySource(tenant: TenantConfig): Promise<DirectorySource>;
  /** Sign-in through the tenant's DingTalk or WeCom app (`channelId`: an extra channel's app). */
  signInIdentity(tenant: TenantConfig, vendor: SsoVendor, channelId?: string): Promise<SignInIdentity>;
  /** New-mail notices through the tenant's DingTalk or WeCom app (`channelId`: an extra channel's app). */
  noticeSender(tenant: TenantConfig, channel: NotifyChannel, channelId?: string): Promise<NotificationSender>;
  /** The users of one of the tenant's channels (ids and match attributes), for the identity links. */
  channelDirectory(tenant: TenantConfig, channel: TenantChannel): Promise<ChannelDirectory>;
  /** The tenant's CAS server (`sso.cas`). */
  cas(tenant: TenantConfig): CasTicketValidator;
  /** Console alerts: DingTalk work notices and WeCom app messages through the tenant's app. */
  dingtalkNotifier(tenant: TenantConfig): DingtalkNotifier;
  wecomNotifier(tenant: TenantConfig): WecomNotifier;
  /** The console's health check: one authenticated read (the root department) with the tenant's DingTalk or WeCom app. */
  workAppTokenCheck(tenant: TenantConfig): Promise<{ ok: boolean; detail: string }>;
}

type LoggerOf = (tenant: TenantConfig) => Logger | undefined;

/** The DingTalk and WeCom app clients of each tenant and extra channel (one token cache and limiter each). */
function appClients(opts: TenantClientsOptions, limiters: RateLimiterRegistry, loggerOf: LoggerOf) {
  const dingtalk = new Map<string, DingtalkClient>();
  const wecom = new Map<string, WecomClient>();
  const cached = <T>(map: Map<string, T>, tenant: TenantConfig, build: () => T): T => {
    let v = map.get(tenant.id);
    if (v === undefined) map.set(tenant.id, (v = build()));
    return v;
  };
  // One client per tenant for the source, sign-in and notices: one token cache, one limiter.
  const meterOpt = opts.meter ? { meter: opts.meter } : {};
  const dingtalkOf = (t: TenantConfig) => cached(dingtalk, t, () => createDingtalkClient(t, { secrets: opts.secrets, stage: opts.stage, limiters, logger: loggerOf(t), ...meterOpt }));
  const wecomOf = (t: TenantConfig) => cached(wecom, t, () => createWecomClient(t, { secrets: opts.secrets, stage: opts.stage, limiters, logger: loggerOf(t), ...meterOpt }));
  // Extra channels (shared/config/channels.ts): their own app, secret and client, keyed tenant/channel.
  const channelClients = new Map<string, DingtalkClient | WecomClient>();
  const channelOf = (t: TenantConfig, vendor: SsoVendor, channelId: string | undefined) => {
    const channel = findChannel(t, vendor, channelId ?? vendor);
    if (!channel) throw new NotConfiguredError(`Tenant ${t.id} has no ${vendor} channel "${channelId ?? vendor}"`, { code: 'CHANNEL.NOT_CONFIGURED' });
    return channel;
  };
  const clientOf = (t: TenantConfig, channel: TenantChannel): DingtalkClient | WecomClient => {
    if (channel.id === channel.vendor) return channel.vendor === 'dingtalk' ? dingtalkOf(t) : wecomOf(t);
    const key = `${t.id}/${channel.id}`;
    let c = channelClients.get(key);
    if (!c) {
      const view = channelView(t, channel);
      const deps = { secrets: opts.secrets, stage: opts.stage, secretName: channelSecretName(opts.stage, t.id, channel), limiters, logger: loggerOf(t)?.child({ channel: channel.id }), ...meterOpt };
      c = channel.vendor === 'dingtalk' ? createDingtalkClient(view, deps) : createWecomClient(view, deps);
      channelClients.set(key, c);
    }
    return c;
  };
  return {
    dingtalkOf,
    wecomOf,
    clientOf,
    dingtalkChannel: (t: TenantConfig, id?: string) => clientOf(t, channelOf(t, 'dingtalk', id)) as DingtalkClient,
    wecomChannel: (t: TenantConfig, id?: string) => clientOf(t, channelOf(t, 'wecom', id)) as WecomClient,
  };
}

/**
 * The NetEase ports of each tenant: the legacy client (rebuilt when its key rotates), and with
 * `netease.openPlatform` and an authCode, the same client with the open platform's additions.
 */
function neteaseClients(opts: TenantClientsOptions, limiters: RateLimiterRegistry, share: number, loggerOf: LoggerOf): Pick<TenantClients, 'neteaseDirectory' | 'neteaseMailbox'> {
  const clockOpt = opts.clock ? { clock: opts.clock } : {};
  const netease = new Map<string, { signer: unknown; client: NeteaseClient }>();
  const openClients = new Map<string, { key: string; client: NeteaseOpenClient }>();
  const withMoves = new Map<string, { client: NeteaseClient; open: NeteaseOpenClient; api: NeteaseDirectory }>();
  const warnedNoAuthCode = new Set<string>();

  /** The authCode in the tenant's netease secret, or undefined (never logged). */
  const readAuthCode = async (tenant: TenantConfig): Promise<string | undefined> => {
    const parsed = secretSchemas.netease.safeParse((await opts.secrets.getJson(secretName(opts.stage, tenant.id, 'netease'))) ?? {});
    return parsed.success ? parsed.data.authCode : undefined;
  };

  /** The tenant's legacy client, rebuilt when its key rotates (module doc). */
  const neteaseClientOf = async (tenant: TenantConfig): Promise<NeteaseClient> => {
    const signer = await loadTenantSigner({ secrets: opts.secrets, stage: opts.stage, tenantId: tenant.id, logger: opts.logger });
    const entry = netease.get(tenant.id);
    if (entry && entry.signer === signer) return entry.client;
    const settings = { ...tenant.netease, requestsPerSecond: tenant.netease.requestsPerSecond * share };
    const client = new NeteaseClient(settings, signer, { limiter: neteaseRateLimiter(limiters, tenant.id, settings), logger: loggerOf(tenant), ...clockOpt });
    netease.set(tenant.id, { signer, client });
    return client;
  };

  /** The tenant's open-platform client, rebuilt only when its settings change (its token cache lives inside). */
  const openClientOf = (tenant: TenantConfig, open: NonNullable<TenantConfig['netease']['openPlatform']>): NeteaseOpenClient => {
    const settings = { ...open, domain: tenant.netease.domain, timeoutMs: tenant.netease.timeoutMs, maxRetries: tenant.netease.maxRetries };
    const key = JSON.stringify(settings);
    const prior = openClients.get(tenant.id);
    if (prior && prior.key === key) return prior.client;
    const client = new NeteaseOpenClient(settings, {
      authCode: async () => {
        const code = await readAuthCode(tenant);
        if (!code) throw new NotConfiguredError(`Tenant ${tenant.id} has no authCode in secret ${secretName(opts.stage, tenant.id, 'netease')}`, { code: 'NETEASE.OPEN_NOT_CONFIGURED' });
        return code;
      },
      // The legacy client's limiter (same registry key): one NetEase budget per tenant.
      limiter: neteaseRateLimiter(limiters, tenant.id, { requestsPerSecond: tenant.netease.requestsPerSecond * share }),
      logger: loggerOf(tenant),
      ...clockOpt,
    });
    openClients.set(tenant.id, { key, client });
    return client;
  };

  /** The legacy client with the open platform's additions (withOpenPlatform), built once per client pair. */
  const withUnitMoves = (tenantId: string, client: NeteaseClient, open: NeteaseOpenClient): NeteaseDirectory => {
    const prior = withMoves.get(tenantId);
    if (prior && prior.client === client && prior.open === open) return prior.api;
    const api = withOpenPlatform(client, open);
    withMoves.set(tenantId, { client, open, api });
    return api;
  };

  return {
    async neteaseDirectory(tenant) {
      const client = await neteaseClientOf(tenant);
      const open = tenant.netease.openPlatform;
      if (!open) return client;
      if (!(await readAuthCode(tenant))) {
        if (!warnedNoAuthCode.has(tenant.id)) {
          warnedNoAuthCode.add(tenant.id);
          opts.logger?.warn('netease.openPlatform is configured but the netease secret has no authCode: unit moves stay unsupported', { tenant: tenant.id });
        }
        return client;
      }
      return withUnitMoves(tenant.id, client, openClientOf(tenant, open));
    },
    neteaseMailbox: (tenant) => neteaseClientOf(tenant),
  };
}

/** Builds the per-tenant client cache; one per process is what {@link getWiring} keeps. */
export function createTenantClients(opts: TenantClientsOptions): TenantClients {
  const limiters = opts.limiters ?? processLimiters;
  const share = opts.neteaseShare ?? 1;
  if (!(share > 0 && share <= 1)) throw new RangeError('neteaseShare must be within (0, 1]');
  const loggerOf = (tenant: TenantConfig) => opts.logger?.child({ tenant: tenant.id });
  const clockOpt = opts.clock ? { clock: opts.clock } : {};

  const sources = new Map<string, Promise<DirectorySource>>();
  const { dingtalkOf, wecomOf, clientOf, dingtalkChannel, wecomChannel } = appClients(opts, limiters, loggerOf);

  const buildSource = async (tenant: TenantConfig): Promise<DirectorySource> => {
    switch (tenant.sync.source) {
      case 'ekp': {
        const logger = loggerOf(tenant);
        const client = await createEkpClient({ tenant, secrets: opts.secrets, stage: opts.stage, logger });
        const known = opts.knownIds;
        return new EkpDirectorySource({
          client,
          logger,
          ...clockOpt,
          // Read at each changesSince: the mappings change with every run.
          ...(known ? { knownIds: () => known(tenant, 'ekp') } : {}),
        });
      }
      case 'dingtalk':
        return new DingtalkDirectorySource(dingtalkOf(tenant), clockOpt);
      case 'wecom':
        return new WecomDirectorySource(wecomOf(tenant), clockOpt);
      default:
        throw new NotConfiguredError(`Tenant ${tenant.id} has no sync source (sync.source)`, { code: 'SYNC.NO_SOURCE' });
    }
  };

  return {
    ...neteaseClients(opts, limiters, share, loggerOf),
    directorySource(tenant) {
      let p = sources.get(tenant.id);
      if (!p) {
        p = buildSource(tenant);
        sources.set(tenant.id, p);
        // A failure (e.g. a secret not set yet) must not be cached.
        p.catch(() => sources.delete(tenant.id));
      }
      return p;
    },
    async signInIdentity(tenant, vendor, channelId) {
      return vendor === 'dingtalk' ? new DingtalkSignIn(dingtalkChannel(tenant, channelId)) : new WecomSignIn(wecomChannel(tenant, channelId));
    },
    async noticeSender(tenant, channel, channelId) {
      return channel === 'dingtalk' ? dingtalkSender(dingtalkChannel(tenant, channelId)) : wecomSender(wecomChannel(tenant, channelId));
    },
    async channelDirectory(tenant, channel) {
      const client = clientOf(tenant, channel);
      // The vendors' own directory sources read the org (and go through the client's limiter).
      const source = channel.vendor === 'dingtalk' ? new DingtalkDirectorySource(client as DingtalkClient, clockOpt) : new WecomDirectorySource(client as WecomClient, clockOpt);
      return directoryAsChannel(channel.vendor, source);
    },
    cas(tenant) {
      const cas = tenant.sso.cas;
      if (!cas) throw new NotConfiguredError(`Tenant ${tenant.id} does not use CAS (sso.cas)`, { code: 'SSO.CAS_NOT_CONFIGURED' });
      return new CasClient({ baseUrl: cas.baseUrl });
    },
    dingtalkNotifier: (tenant) => dingtalkOf(tenant),
    wecomNotifier: (tenant) => wecomOf(tenant),
    async workAppTokenCheck(tenant) {
      try {
        if (tenant.dingtalk) await dingtalkOf(tenant).getDepartment(1);
        else if (tenant.wecom) await wecomOf(tenant).getDepartment(1);
        else return { ok: false, detail: 'no DingTalk or WeCom app' };
        return { ok: true, detail: tenant.dingtalk ? 'dingtalk' : 'wecom' };
      } catch (err) {
        return { ok: false, detail: (err as { code?: string }).code ?? 'ERROR' };
      }
    },
  };
}
