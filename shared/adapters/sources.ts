/**
 * The sync engine's adapter wiring: tenant -> DirectorySource (its `sync.source`) and
 * tenant -> NeteaseClient, built once per process and reused (tokens, signers and rate
 * limiters are cached inside them), plus `buildSyncDeps(runtime)` for the functions.
 *
 * Rate limits. The NetEase limiter is per process (RateLimiterRegistry), keyed by tenant.
 * In the local stack every function shares one process, so one limiter paces every worker
 * at the tenant's `requestsPerSecond`. In AWS each concurrent worker Lambda is its own
 * process: with `neteaseShare` = 1 / maxConcurrency of the sync worker's event source
 * mapping (FUNCTIONS.syncWorker.consumes.maxConcurrency = 5), the sum over all workers stays
 * within the tenant's rate. The planner's reads run while no worker of that tenant runs
 * (the tenant's lock), so they are not counted against the share.
 *
 * Unit moves. A tenant with `netease.openPlatform` whose `netease` secret holds an
 * `authCode` gets an API with `reparentUnit` (NetEase's open platform unit/moveUnit,
 * reference netease-qiye-api.md §4), served by a NeteaseOpenClient that shares the legacy
 * client's limiter (key `netease:<tenant>`): both APIs spend one budget. Without the block
 * or the authCode, the API is the legacy client alone and moves are reported unsupported.
 * The secret is read on every call (the SecretStore caches it briefly), so adding or
 * removing the authCode switches moves on or off without a restart.
 *
 * EKP deletions. EKP never reports a physical delete in its feed (sync-and-ekp.md §A5), so
 * the EKP source gets `knownIds`: the tenant's mapped ids (the mapping table, tombstones
 * left out), which its changesSince compares with getElementsBaseInfo to report the ones
 * EKP no longer has. buildSyncDeps reads them from the DynamoDB mapping store.
 *
 * WeCom. The source reads the roster with the contact-sync secret and member details with
 * the app secret first, falling back between the two (wecom.client.ts); nothing to wire.
 */
import type { Runtime } from '../runtime/runtime';
import type { TenantConfig } from '../config/tenant-config.schema';
import type { DirectorySource } from '../domain/directory';
import { secretName, secretSchemas } from '../config/secrets';
import { NotConfiguredError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import type { Clock } from '../ports/clock';
import type { SecretStore } from '../ports/secret-store';
import type { MappingStore } from '../ports/mapping-store';
import type { SourceKind } from '../ports/store-common';
import { FUNCTIONS } from '../contracts/app-manifest';
import { loadTenantSigner } from '../use-cases/manage-keys';
import type { ListedAccountStatus, NeteaseSyncApi, SyncDeps, SyncOptions } from '../use-cases/sync/sync-deps';
import { createDynamoStateStores } from './aws/dynamo-state.store';
import { RateLimiterRegistry } from './http/rate-limiter';
import { NeteaseClient, neteaseRateLimiter } from './netease/netease.client';
import { NeteaseOpenClient, type NeteaseOpenAccount } from './netease/netease-open.client';
import { createEkpClient } from './ekp/ekp.client';
import { EkpDirectorySource, type KnownIds } from './ekp/ekp.directory-source';
import { createDingtalkClient } from './dingtalk/dingtalk.client';
import { DingtalkDirectorySource } from './dingtalk/dingtalk.directory-source';
import { createWecomClient } from './wecom/wecom.client';
import { WecomDirectorySource } from './wecom/wecom.directory-source';

/** Limiters shared by every client of this process. */
const processLimiters = new RateLimiterRegistry();

export interface SyncAdapterOptions {
  secrets: SecretStore;
  stage: string;
  logger?: Logger;
  clock?: Clock;
  /** Share of the tenant's NetEase rate this process may use (0-1]; default 1. */
  neteaseShare?: number;
  /** Limiter registry (default: one per process). */
  limiters?: RateLimiterRegistry;
  /**
   * The source ids the sync already maps for a tenant (module doc, "EKP deletions"). Without
   * it the EKP source reports no physical deletions from changesSince (full runs still find them).
   */
  knownIds?: (tenant: TenantConfig, source: SourceKind) => Promise<KnownIds>;
}

/** The mapped (not tombstoned) department and person ids of a tenant and source: what `knownIds` returns. */
export async function knownIdsFromMappings(mappings: Pick<MappingStore, 'list'>, tenantId: string, source: SourceKind): Promise<KnownIds> {
  const ids = async (type: 'department' | 'person'): Promise<string[]> => {
    const out: string[] = [];
    for await (const m of mappings.list(tenantId, source, type)) if (m.status !== 'deleted') out.push(m.sourceId);
    return out;
  };
  return { departmentIds: await ids('department'), personIds: await ids('person') };
}

export interface SyncAdapters {
  directory(tenant: TenantConfig): Promise<DirectorySource>;
  /** The tenant's legacy client, with `reparentUnit` when the open platform is configured (module doc). */
  netease(tenant: TenantConfig): Promise<NeteaseSyncApi>;
}

/**
 * Per-tenant factories, cached per process. A NetEase client is rebuilt when the stored key
 * changes (loadTenantSigner caches by the secret's fingerprint); sources are built once.
 */
export function createSyncAdapters(opts: SyncAdapterOptions): SyncAdapters {
  const limiters = opts.limiters ?? processLimiters;
  const share = opts.neteaseShare ?? 1;
  if (!(share > 0 && share <= 1)) throw new RangeError('neteaseShare must be within (0, 1]');
  const sources = new Map<string, Promise<DirectorySource>>();
  const clients = new Map<string, { signer: unknown; client: NeteaseClient }>();
  const openClients = new Map<string, { key: string; client: NeteaseOpenClient }>();
  const withMoves = new Map<string, { client: NeteaseClient; open: NeteaseOpenClient; api: NeteaseSyncApi }>();
  const warnedNoAuthCode = new Set<string>();

  /** The authCode in the tenant's netease secret, or undefined (never logged). */
  const readAuthCode = async (tenant: TenantConfig): Promise<string | undefined> => {
    const parsed = secretSchemas.netease.safeParse((await opts.secrets.getJson(secretName(opts.stage, tenant.id, 'netease'))) ?? {});
    return parsed.success ? parsed.data.authCode : undefined;
  };

  /** The tenant's open-platform client, rebuilt only when its settings change (its token cache lives inside). */
  const openClientOf = (tenant: TenantConfig, open: NonNullable<TenantConfig['netease']['openPlatform']>): NeteaseOpenClient => {
    const settings = { ...open, domain: tenant.netease.domain, timeoutMs: tenant.netease.timeoutMs, maxRetries: tenant.netease.maxRetries };
    const key = JSON.stringify(settings);
    const cached = openClients.get(tenant.id);
    if (cached && cached.key === key) return cached.client;
    const openClient = new NeteaseOpenClient(settings, {
      authCode: async () => {
        const code = await readAuthCode(tenant);
        if (!code) throw new NotConfiguredError(`Tenant ${tenant.id} has no authCode in secret ${secretName(opts.stage, tenant.id, 'netease')}`, { code: 'NETEASE.OPEN_NOT_CONFIGURED' });
        return code;
      },
      // The legacy client's limiter (same registry key): one NetEase budget per tenant.
      limiter: neteaseRateLimiter(limiters, tenant.id, { requestsPerSecond: tenant.netease.requestsPerSecond * share }),
      ...(opts.logger ? { logger: opts.logger.child({ tenant: tenant.id }) } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    openClients.set(tenant.id, { key, client: openClient });
    return openClient;
  };

  /** The legacy client plus reparentUnit: the same object underneath (prototype), so every method and getter is the client's own. */
  const withUnitMoves = (tenantId: string, client: NeteaseClient, open: NeteaseOpenClient): NeteaseSyncApi => {
    const cached = withMoves.get(tenantId);
    if (cached && cached.client === client && cached.open === open) return cached.api;
    const api = Object.create(client) as NeteaseClient & Required<Pick<NeteaseSyncApi, 'reparentUnit' | 'listAccountsWithStatus'>>;
    api.reparentUnit = (unitId, parentUnitId, expect) => open.moveUnit(unitId, parentUnitId, expect);
    api.listAccountsWithStatus = async () => (await open.getAllAccounts()).map(listedAccountStatus);
    withMoves.set(tenantId, { client, open, api });
    return api;
  };

  /** An open-platform account row in the sync engine's terms (§4 status codes). */
  const listedAccountStatus = (a: NeteaseOpenAccount): ListedAccountStatus => ({
    accountName: a.accountName,
    ...(a.name !== undefined ? { nickname: a.name } : {}),
    ...(a.mobile !== undefined ? { mobile: a.mobile } : {}),
    ...(a.jobNumber !== undefined ? { jobNo: a.jobNumber } : {}),
    ...(a.unitId !== undefined ? { unitId: a.unitId } : {}),
    status: a.status === 0 ? 'active' : a.status === 1 ? 'suspended' : a.status === 2 ? 'deleted' : 'unknown',
  });

  const buildSource = async (tenant: TenantConfig): Promise<DirectorySource> => {
    const logger = opts.logger?.child({ tenant: tenant.id });
    switch (tenant.sync.source) {
      case 'ekp': {
        const client = await createEkpClient({ tenant, secrets: opts.secrets, stage: opts.stage, ...(logger ? { logger } : {}) });
        const known = opts.knownIds;
        return new EkpDirectorySource({
          client,
          ...(logger ? { logger } : {}),
          ...(opts.clock ? { clock: opts.clock } : {}),
          // Read at each changesSince: the mappings change with every run.
          ...(known ? { knownIds: () => known(tenant, 'ekp') } : {}),
        });
      }
      case 'dingtalk':
        return new DingtalkDirectorySource(createDingtalkClient(tenant, { secrets: opts.secrets, stage: opts.stage, limiters, ...(logger ? { logger } : {}) }), opts.clock ? { clock: opts.clock } : {});
      case 'wecom':
        return new WecomDirectorySource(createWecomClient(tenant, { secrets: opts.secrets, stage: opts.stage, limiters, ...(logger ? { logger } : {}) }), opts.clock ? { clock: opts.clock } : {});
      default:
        throw new NotConfiguredError(`Tenant ${tenant.id} has no sync source (sync.source)`, { code: 'SYNC.NO_SOURCE' });
    }
  };

  return {
    directory(tenant) {
      let p = sources.get(tenant.id);
      if (!p) {
        p = buildSource(tenant);
        sources.set(tenant.id, p);
        // A failure (e.g. a secret not set yet) must not be cached.
        p.catch(() => sources.delete(tenant.id));
      }
      return p;
    },
    async netease(tenant) {
      const signer = await loadTenantSigner({ secrets: opts.secrets, stage: opts.stage, tenantId: tenant.id });
      let client = clients.get(tenant.id)?.signer === signer ? clients.get(tenant.id)!.client : undefined;
      if (!client) {
        const settings = { ...tenant.netease, requestsPerSecond: tenant.netease.requestsPerSecond * share };
        client = new NeteaseClient(settings, signer, {
          limiter: neteaseRateLimiter(limiters, tenant.id, settings),
          ...(opts.logger ? { logger: opts.logger.child({ tenant: tenant.id }) } : {}),
          ...(opts.clock ? { clock: opts.clock } : {}),
        });
        clients.set(tenant.id, { signer, client });
      }
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
  };
}

/** The NetEase share of one process of `fn` in this runtime (see the module doc). */
export function neteaseShareFor(rt: Pick<Runtime, 'stage'>, fn: 'syncWorker' | 'syncPlanner' | 'admin'): number {
  const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && rt.stage !== 'local';
  if (!inLambda || fn !== 'syncWorker') return 1;
  return 1 / Math.max(1, FUNCTIONS.syncWorker.consumes?.maxConcurrency ?? 1);
}

const adaptersByRuntime = new WeakMap<object, SyncAdapters>();

/** Everything the sync use cases need, from a function's runtime (DynamoDB stores, SQS, secrets). */
export function buildSyncDeps(rt: Runtime, fn: 'syncWorker' | 'syncPlanner' | 'admin', options: Partial<SyncOptions> = {}): SyncDeps {
  let adapters = adaptersByRuntime.get(rt);
  if (!adapters) {
    const mappings = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock }).mappings;
    adapters = createSyncAdapters({
      secrets: rt.secrets,
      stage: rt.stage,
      logger: rt.logger,
      clock: rt.clock,
      neteaseShare: neteaseShareFor(rt, fn),
      knownIds: (t, source) => knownIdsFromMappings(mappings, t.id, source),
    });
    adaptersByRuntime.set(rt, adapters);
  }
  const a = adapters;
  return {
    stores: createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock }),
    jobs: rt.jobs,
    clock: rt.clock,
    logger: rt.logger,
    tenants: () => rt.tenants.tenants,
    directory: (t) => a.directory(t),
    netease: (t): Promise<NeteaseSyncApi> => a.netease(t),
    options,
  };
}
