/**
 * The sync engine's wiring: SyncDeps for the planner, the worker, the callback worker and
 * the admin API, from a function's runtime (DynamoDB stores, SQS, secrets) and the
 * process's tenant clients (./tenant-clients.ts).
 */
import type { Runtime } from '../runtime/runtime';
import { FUNCTIONS } from '../contracts/app-manifest';
import type { KnownIds } from '../adapters/ekp/ekp.directory-source';
import type { MappingStore } from '../ports/mapping-store';
import type { SourceKind } from '../ports/store-common';
import type { SyncDeps, SyncOptions } from '../use-cases/sync/sync-deps';
import type { TenantClients } from './tenant-clients';
import { processMetrics } from './metrics';

/** The functions that run the sync engine. */
export type SyncFunction = 'syncWorker' | 'syncPlanner' | 'admin';

/** The mapped (not tombstoned) department and person ids of a tenant and source: what `knownIds` returns. */
export async function knownIdsFromMappings(mappings: Pick<MappingStore, 'list'>, tenantId: string, source: SourceKind): Promise<KnownIds> {
  const ids = async (type: 'department' | 'person'): Promise<string[]> => {
    const out: string[] = [];
    for await (const m of mappings.list(tenantId, source, type)) if (m.status !== 'deleted') out.push(m.sourceId);
    return out;
  };
  return { departmentIds: await ids('department'), personIds: await ids('person') };
}

/**
 * The NetEase share of one process of `fn` in this runtime (tenant-clients.ts, "Rate
 * limits"): 1 / maxConcurrency for a sync worker Lambda, 1 everywhere else.
 */
export function neteaseShareFor(rt: Pick<Runtime, 'stage'>, fn: string): number {
  const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && rt.stage !== 'local';
  if (!inLambda || fn !== 'syncWorker') return 1;
  return 1 / Math.max(1, FUNCTIONS.syncWorker.consumes?.maxConcurrency ?? 1);
}

/** SyncDeps over the given stores, queue and clients, counting runs on the process's metrics. */
export function syncDepsOf(parts: Pick<SyncDeps, 'stores' | 'jobs' | 'clock' | 'logger' | 'tenants' | 'usage'>, clients: Pick<TenantClients, 'directorySource' | 'neteaseDirectory'>, options: Partial<SyncOptions> = {}): SyncDeps {
  return {
    ...parts,
    directory: (t) => clients.directorySource(t),
    netease: (t) => clients.neteaseDirectory(t),
    metrics: processMetrics,
    options,
  };
}
