/**
 * The sandbox tenants' initial full syncs, on the local stack's FIRST start: every tenant
 * of the local tenants file with sync enabled, a source, NetEase on a loopback address (a
 * simulator: a start never writes to a real NetEase tenant) and no run recorded yet gets a
 * full run. With config/tenants.local.json that is `sandbox` (EKP), `sandbox-dingtalk` and
 * `sandbox-wecom`, so `simulate callback --tenant sandbox-dingtalk ...` works right after
 * the first `npm start`.
 *
 * Each run goes the way Lambda would take it: the sync planner is invoked (the tenants at
 * once: they are independent, and the sandbox ones are small), its batches go through the
 * local SQS to the real sync worker, and this waits until every run ends, then prints one
 * summary line per tenant and a sign-in link command for a person the EKP sandbox created.
 * Then the synced tenants with channels apart from their source (the EKP sandbox's DingTalk)
 * get their first identity-links pull, with how to sign in and get a notice through it
 * (local/first-links.ts).
 *
 * Later starts skip tenants that have runs; from then on the schedule (or
 * `curl -X POST http://127.0.0.1:3000/_local/trigger/syncPlanner`) runs incremental syncs,
 * so an edit made through a simulator's control API reaches NetEase.
 */
import { createDynamoStateStores } from '../shared/adapters/aws/dynamo-state.store';
import type { TenantConfig } from '../shared/config/tenant-config.schema';
import type { RunRecord } from '../shared/ports/run-store';
import type { StateStores } from '../shared/ports/state-stores';
import { syncedTenants } from '../shared/use-cases/sync/recover-runs';
import { runFirstLinksPulls, type FirstLinksReport } from './first-links';
import { isLoopback } from './http-gateway';
import type { LocalStack } from './stack';

export const SANDBOX_TENANT = 'sandbox';

export interface FirstSyncReport {
  tenantId: string;
  /** Why nothing ran (not the first start, no such tenant). */
  skipped?: string;
  run?: RunRecord;
  /** A person the run mapped, for the SSO example. */
  examplePerson?: { sourceId: string; accountName: string };
  /** The first identity-links pull, for tenants with channels apart from the source (local/first-links.ts). */
  links?: FirstLinksReport;
}

export interface FirstSyncOptions {
  /** One tenant only (tests, benchmarks); default: every eligible tenant (runFirstSyncs). */
  tenantId?: string;
  out?: (line: string) => void;
  /** Give up waiting after this long (the runs go on in the background). Default 180 s. */
  timeoutMs?: number;
}

const TERMINAL: ReadonlySet<RunRecord['status']> = new Set(['success', 'warning', 'failed', 'awaiting_approval', 'rejected', 'dry_run']);

/** One tenant's initial full sync (see runFirstSyncs); the summary lines go to `out`. */
export async function runFirstSync(stack: LocalStack, options: FirstSyncOptions = {}): Promise<FirstSyncReport> {
  const tenantId = options.tenantId ?? SANDBOX_TENANT;
  const tenant = stack.tenants.tenants.find((t) => t.id === tenantId);
  if (!tenant || !tenant.sync.enabled || !tenant.sync.source) return { tenantId, skipped: `no tenant "${tenantId}" with sync enabled` };
  const [report] = await syncAll(stack, [tenant], options);
  return report!;
}

/**
 * Every eligible tenant's initial full sync (module doc), at once; one summary line per
 * tenant that ran, then the notes and the sign-in example. Tenants that were not eligible
 * are not reported.
 */
export async function runFirstSyncs(stack: LocalStack, options: Omit<FirstSyncOptions, 'tenantId'> = {}): Promise<FirstSyncReport[]> {
  const eligible = syncedTenants(stack.tenants.tenants).filter(simulatedNetease);
  return syncAll(stack, eligible, options);
}

/**
 * NetEase on a loopback address: a simulator, never a customer's real mail tenant. A section
 * with `"simulate": false` is a real service on this machine, so it is never synced unasked.
 */
export function simulatedNetease(t: TenantConfig): boolean {
  if (t.netease.simulate === false) return false;
  const host = new URL(t.netease.apiBaseUrl).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || isLoopback(host);
}

async function syncAll(stack: LocalStack, tenants: readonly TenantConfig[], options: FirstSyncOptions): Promise<FirstSyncReport[]> {
  const out = options.out ?? (() => undefined);
  const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
  const fresh: TenantConfig[] = [];
  const reports = new Map<string, FirstSyncReport>();
  for (const t of tenants) {
    if ((await stores.runs.list(t.id, { limit: 1 })).items.length > 0) reports.set(t.id, { tenantId: t.id, skipped: 'runs exist already (not the first start)' });
    else fresh.push(t);
  }
  if (fresh.length === 0) return tenants.map((t) => reports.get(t.id)!);

  out(`Initial full sync of ${fresh.map((t) => `"${t.id}" (${t.sync.source})`).join(', ')} -> NetEase simulator...`);
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 180_000);
  const width = Math.max(...fresh.map((t) => t.id.length));
  const ran = await Promise.all(
    fresh.map(async (t) => {
      const report = await syncOne(stack, stores, t, deadline);
      out(`  ${t.id.padEnd(width)}  ${summaryLine(report, started)}`);
      return report;
    }),
  );
  for (const r of ran) reports.set(r.tenantId, r);

  // Details after the summary lines, tenant by tenant.
  for (const { tenantId, run } of ran) {
    if (!run) continue;
    const notes = (run.summary as { notes?: Record<string, number> } | undefined)?.notes ?? {};
    if (Object.keys(notes).length > 0) out(`  planner notes (${tenantId}): ${Object.entries(notes).map(([k, v]) => `${k} ${v}`).join(', ')}  (details: npx qiye-bridge runs show --tenant ${tenantId} ${run.runId})`);
    if (run.status === 'awaiting_approval') out(`  ${tenantId} is parked for approval: npx qiye-bridge runs show --tenant ${tenantId} ${run.runId}`);
    else if (!TERMINAL.has(run.status)) out(`  ${tenantId} goes on in the background: npx qiye-bridge runs show --tenant ${tenantId} ${run.runId}`);
    else if (run.counts.failed > 0) out(`  failures (${tenantId}): npx qiye-bridge runs show --tenant ${tenantId} ${run.runId}`);
  }
  // One sign-in example: the first tenant (the EKP sandbox in the local config) that has a person.
  for (const r of ran) {
    const t = fresh.find((x) => x.id === r.tenantId)!;
    if (!r.run || !TERMINAL.has(r.run.status)) continue;
    for await (const m of stores.mappings.list(t.id, t.sync.source!, 'person', { pageSize: 20 })) {
      if (m.status !== 'active') continue;
      r.examplePerson = { sourceId: m.sourceId, accountName: m.neteaseId };
      break;
    }
  }
  const example = ran.find((r) => r.examplePerson);
  if (example) {
    const domain = fresh.find((t) => t.id === example.tenantId)!.netease.domain;
    out(`  sign in as ${example.examplePerson!.accountName}@${domain}: npx qiye-bridge sso-link --tenant ${example.tenantId} --user ${example.examplePerson!.sourceId}`);
  }
  // Then the links of the synced tenants with channels apart from their source (the sandbox's DingTalk).
  const synced = ran.filter((r) => r.run && TERMINAL.has(r.run.status) && r.run.status !== 'failed').map((r) => fresh.find((t) => t.id === r.tenantId)!);
  for (const l of await runFirstLinksPulls(stack, synced, out)) reports.get(l.tenantId)!.links = l;
  return tenants.map((t) => reports.get(t.id)!);
}

/** Invoke the planner for a full run of one tenant and wait (until `deadline`) for its end. */
async function syncOne(stack: LocalStack, stores: Pick<StateStores, 'runs'>, tenant: TenantConfig, deadline: number): Promise<FirstSyncReport> {
  const tenantId = tenant.id;
  let result: { tenants: Array<{ runId?: string; skipped?: string }> };
  try {
    result = (await stack.invoke('syncPlanner', { tenantId, mode: 'full', trigger: 'manual' })) as typeof result;
  } catch (err) {
    // One tenant's failure (a simulator down, a secret missing) must not hide the others'.
    const code = (err as { code?: unknown }).code;
    return { tenantId, skipped: `the planner failed${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message}` };
  }
  const runId = result.tenants[0]?.runId;
  if (!runId) return { tenantId, skipped: result.tenants[0]?.skipped ?? 'the planner started no run' };
  let run = await stores.runs.get(tenantId, runId);
  while (run && !TERMINAL.has(run.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    run = await stores.runs.get(tenantId, runId);
  }
  if (!run) return { tenantId, skipped: `run ${runId} not found` };
  return { tenantId, run };
}

/** `success in 8.9 s: fetched 264; created 251, ... (run <id>)`, or why nothing ran. */
function summaryLine(r: FirstSyncReport, started: number): string {
  const run = r.run;
  if (!run) return `not synced: ${r.skipped}`;
  const seconds = ((run.endedAt ?? Date.now()) - run.startedAt) / 1000;
  if (!TERMINAL.has(run.status)) {
    return `still ${run.status} after ${Math.round((Date.now() - started) / 1000)} s (${run.completedBatches}/${run.totalBatches} batches; run ${run.runId})`;
  }
  const c = run.counts;
  return `${run.status} in ${seconds.toFixed(1)} s: fetched ${c.fetched}; created ${c.created}, updated ${c.updated}, moved ${c.moved}, linked ${c.linked}, suspended ${c.suspended}, skipped ${c.skipped}, failed ${c.failed} (run ${run.runId})`;
}
