/**
 * What the console's pages read, beyond the sync queries it reuses (sync-queries.ts): a
 * tenant's overview, runs filtered by status and date, the last applied contact callback,
 * and the mapping search.
 */
import { secretSchemas, tenantSecretRefs, type SecretKind } from '../../config/secrets';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { DirectoryObjectType, Person } from '../../domain/directory';
import type { SecretStore } from '../../ports/secret-store';
import { RUN_STATUSES, type RunRecord, type RunStatus, type RunStore } from '../../ports/run-store';
import { ValidationError } from '../../errors/app-error';
import type { SyncDeps } from '../sync/sync-deps';
import { getUsage, type UsageDeps, type UsageReport } from '../usage/usage-report';
import { mappingView, type MappingView } from '../sync/sync-queries';

export interface SecretPresence {
  kind: SecretKind;
  /** An extra channel's secret (`channels[].id`). */
  channelId?: string;
  name: string;
  /** `invalid`: the secret exists but does not match its schema (which fields: see the CLI). Never a value. */
  state: 'present' | 'missing' | 'invalid';
}

export interface TenantOverview {
  tenant: TenantConfig;
  source?: string;
  /** Sign-in / notification / alert channels in use. */
  channels: string[];
  secrets: SecretPresence[];
  lastRun?: RunRecord;
  /** When a contact callback was last applied (the start of the newest callback run). */
  lastCallbackAt?: number;
  /**
   * Vendor API usage this month (usage-report.ts `getUsage`), or `unavailable` when the usage
   * store could not be read: the rest of the overview is still shown.
   */
  apiUsage: { state: 'ok'; report: UsageReport } | { state: 'unavailable' };
}

export async function secretPresence(secrets: SecretStore, stage: string, tenant: TenantConfig): Promise<SecretPresence[]> {
  return Promise.all(
    tenantSecretRefs(stage, tenant).map(async ({ kind, channelId, name }) => {
      const value = await secrets.getJson(name).catch(() => undefined);
      const state: SecretPresence['state'] = value === undefined ? 'missing' : secretSchemas[kind].safeParse(value).success ? 'present' : 'invalid';
      return { kind, ...(channelId === undefined ? {} : { channelId }), name, state };
    }),
  );
}

/** Newest run first, scanning at most `maxRuns` runs and nothing older than `since`. */
export async function lastCallbackAt(deps: { stores: { runs: Pick<RunStore, 'list'> } }, tenantId: string, options: { since?: number; maxRuns?: number } = {}): Promise<number | undefined> {
  let cursor: string | undefined;
  let seen = 0;
  const max = options.maxRuns ?? 300;
  do {
    const page = await deps.stores.runs.list(tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      if (options.since !== undefined && r.startedAt < options.since) return undefined;
      if (r.trigger === 'callback') return r.startedAt;
      if (++seen >= max) return undefined;
    }
    cursor = page.cursor;
  } while (cursor);
  return undefined;
}

export async function tenantOverview(deps: Pick<SyncDeps, 'stores'> & { secrets: SecretStore; stage: string; usage: UsageDeps }, tenant: TenantConfig): Promise<TenantOverview> {
  const channels: string[] = [];
  if (tenant.dingtalk) channels.push('dingtalk');
  if (tenant.wecom) channels.push('wecom');
  // Extra DingTalk orgs / WeCom corps, as `<vendor>/<channel id>`.
  for (const c of tenant.channels) channels.push(`${c.vendor}/${c.id}`);
  if (tenant.ekp) channels.push('ekp');
  if (tenant.sso.cas) channels.push('cas');
  const [secrets, runs, lastCb, apiUsage] = await Promise.all([
    secretPresence(deps.secrets, deps.stage, tenant),
    deps.stores.runs.list(tenant.id, { limit: 1 }),
    lastCallbackAt(deps, tenant.id, { maxRuns: 200 }),
    getUsage(deps.usage, tenant.id).then(
      (report): TenantOverview['apiUsage'] => ({ state: 'ok', report }),
      (): TenantOverview['apiUsage'] => ({ state: 'unavailable' }),
    ),
  ]);
  const o: TenantOverview = { tenant, channels, secrets, apiUsage };
  if (tenant.sync.source) o.source = tenant.sync.source;
  if (runs.items[0]) o.lastRun = runs.items[0];
  if (lastCb !== undefined) o.lastCallbackAt = lastCb;
  return o;
}

export interface RunFilter {
  status?: RunStatus;
  /** Inclusive, epoch ms (start of day UTC of the `from` date). */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
}

/** Parse `?status=&from=YYYY-MM-DD&to=YYYY-MM-DD` (to is inclusive of that day). */
export function parseRunFilter(q: Record<string, string | undefined>): RunFilter {
  const f: RunFilter = {};
  if (q.status) {
    if (!(RUN_STATUSES as readonly string[]).includes(q.status)) throw new ValidationError(`status must be one of ${RUN_STATUSES.join(', ')}`);
    f.status = q.status as RunStatus;
  }
  const day = (v: string, name: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new ValidationError(`${name} must be a date (YYYY-MM-DD)`);
    return Date.parse(`${v}T00:00:00Z`);
  };
  if (q.from) f.from = day(q.from, 'from');
  if (q.to) f.to = day(q.to, 'to') + 24 * 3600_000;
  return f;
}

/**
 * A tenant's runs matching the filter, newest first: pages are read until `limit` runs
 * match, the runs get older than `from`, or `maxScan` runs were read.
 */
export async function filterRuns(deps: Pick<SyncDeps, 'stores'>, tenantId: string, filter: RunFilter, options: { limit?: number; maxScan?: number } = {}): Promise<{ runs: RunRecord[]; truncated: boolean }> {
  const limit = options.limit ?? 50;
  const maxScan = options.maxScan ?? 2000;
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  do {
    const page = await deps.stores.runs.list(tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      scanned++;
      if (filter.from !== undefined && r.startedAt < filter.from) return { runs, truncated: false };
      const ok = (filter.status === undefined || r.status === filter.status) && (filter.to === undefined || r.startedAt < filter.to);
      if (ok) runs.push(r);
      if (runs.length >= limit) return { runs, truncated: true };
      if (scanned >= maxScan) return { runs, truncated: true };
    }
    cursor = page.cursor;
  } while (cursor);
  return { runs, truncated: false };
}

export interface MappingHit extends MappingView {
  /** The person's display name from the source, when the search read it. */
  displayName?: string;
}

/**
 * Search a tenant's mappings by source id, NetEase account / unit id, department name or
 * person name. Ids are looked up exactly first; then the mappings are scanned for a
 * case-insensitive substring of the account name, the source id or the department name.
 * Person names are not in the mapping table (no personal values are stored there:
 * mapping-codec.ts), so a name is matched against the directory source, read once, when
 * `names` is set.
 */
export async function searchMappings(deps: SyncDeps, tenant: TenantConfig, q: string, options: { names?: boolean; limit?: number } = {}): Promise<{ hits: MappingHit[]; truncated: boolean; sourceRead?: 'ok' | 'failed' }> {
  const query = q.trim();
  if (query.length < 1 || query.length > 100) throw new ValidationError('Search for 1-100 characters.');
  const source = tenant.sync.source;
  if (!source) throw new ValidationError('This tenant has no directory source, so no mappings.');
  const limit = options.limit ?? 50;
  const needle = query.toLowerCase();
  const hits = new Map<string, MappingHit>();
  const add = (h: MappingHit) => hits.size < limit && hits.set(`${h.type}:${h.sourceId}`, h);
  let truncated = false;

  for (const type of ['person', 'department'] as DirectoryObjectType[]) {
    const exact = await deps.stores.mappings.get({ tenantId: tenant.id, source, objectType: type, sourceId: query });
    if (exact) add(mappingView(exact));
    for (const r of await deps.stores.mappings.findByNeteaseId(tenant.id, type, query, source)) add(mappingView(r));
  }
  let sourceRead: 'ok' | 'failed' | undefined;
  if (options.names) {
    try {
      const dir = await deps.directory(tenant);
      const snap = await dir.fullSnapshot();
      const people = snap.people.filter((p: Person) => p.displayName.toLowerCase().includes(needle));
      for (const p of people) {
        const m = await deps.stores.mappings.get({ tenantId: tenant.id, source, objectType: 'person', sourceId: p.id });
        if (m) add({ ...mappingView(m), displayName: p.displayName });
        if (hits.size >= limit) break;
      }
      sourceRead = 'ok';
    } catch {
      sourceRead = 'failed';
    }
  }
  for (const type of ['person', 'department'] as DirectoryObjectType[]) {
    for await (const r of deps.stores.mappings.list(tenant.id, source, type)) {
      if (hits.size >= limit) {
        truncated = true;
        break;
      }
      const v = mappingView(r);
      if ([v.sourceId, v.neteaseId, v.name ?? ''].some((s) => s.toLowerCase().includes(needle))) add(v);
    }
  }
  return { hits: [...hits.values()], truncated, ...(sourceRead ? { sourceRead } : {}) };
}
