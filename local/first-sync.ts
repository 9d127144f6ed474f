/**
 * The sandbox's initial full sync on the local stack's FIRST start (no run recorded yet for
 * the sandbox EKP tenant): the sync planner is invoked as Lambda would be, its batches go
 * through the local SQS to the real sync worker, and this waits until the run ends, then
 * prints its summary and a sign-in link command for a person it created.
 *
 * Later starts skip it (runs exist); from then on the schedule (or
 * `curl -X POST http://127.0.0.1:3000/_local/trigger/syncPlanner`) runs incremental syncs,
 * so an edit made through the EKP simulator's control API reaches NetEase.
 */
import { createDynamoStateStores } from '../shared/adapters/aws/dynamo-state.store';
import type { RunRecord } from '../shared/ports/state-stores';
import type { LocalStack } from './stack';

export const SANDBOX_TENANT = 'sandbox';

export interface FirstSyncReport {
  tenantId: string;
  /** Why nothing ran (not the first start, no such tenant). */
  skipped?: string;
  run?: RunRecord;
  /** A person the run mapped, for the SSO example. */
  examplePerson?: { sourceId: string; accountName: string };
}

export interface FirstSyncOptions {
  tenantId?: string;
  out?: (line: string) => void;
  /** Give up waiting after this long (the run goes on in the background). Default 180 s. */
  timeoutMs?: number;
}

const TERMINAL: ReadonlySet<RunRecord['status']> = new Set(['success', 'warning', 'failed', 'awaiting_approval', 'rejected', 'dry_run']);

export async function runFirstSync(stack: LocalStack, options: FirstSyncOptions = {}): Promise<FirstSyncReport> {
  const tenantId = options.tenantId ?? SANDBOX_TENANT;
  const out = options.out ?? (() => undefined);
  const tenant = stack.tenants.tenants.find((t) => t.id === tenantId);
  if (!tenant || !tenant.sync.enabled || !tenant.sync.source) return { tenantId, skipped: `no tenant "${tenantId}" with sync enabled` };
  const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
  if ((await stores.runs.list(tenantId, { limit: 1 })).items.length > 0) return { tenantId, skipped: 'runs exist already (not the first start)' };

  out(`Initial full sync of "${tenantId}" (${tenant.sync.source} -> NetEase ${tenant.netease.domain})...`);
  const started = Date.now();
  const result = (await stack.invoke('syncPlanner', { tenantId, mode: 'full', trigger: 'manual' })) as { tenants: Array<{ runId?: string; skipped?: string }> };
  const runId = result.tenants[0]?.runId;
  if (!runId) return { tenantId, skipped: result.tenants[0]?.skipped ?? 'the planner started no run' };
  const deadline = started + (options.timeoutMs ?? 180_000);
  let run = await stores.runs.get(tenantId, runId);
  while (run && !TERMINAL.has(run.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    run = await stores.runs.get(tenantId, runId);
  }
  if (!run) return { tenantId, skipped: `run ${runId} not found` };
  const report: FirstSyncReport = { tenantId, run };
  if (!TERMINAL.has(run.status)) {
    out(`  still ${run.status} after ${Math.round((Date.now() - started) / 1000)} s (${run.completedBatches}/${run.totalBatches} batches); it goes on in the background: npx qiye-bridge runs show --tenant ${tenantId} ${runId}`);
    return report;
  }
  const c = run.counts;
  const seconds = ((run.endedAt ?? Date.now()) - run.startedAt) / 1000;
  out(`  ${run.status} in ${seconds.toFixed(1)} s (run ${runId})`);
  out(`  fetched ${c.fetched}; created ${c.created}, updated ${c.updated}, moved ${c.moved}, linked ${c.linked}, suspended ${c.suspended}, skipped ${c.skipped}, failed ${c.failed}`);
  const notes = (run.summary as { notes?: Record<string, number> } | undefined)?.notes ?? {};
  if (Object.keys(notes).length > 0) out(`  planner notes: ${Object.entries(notes).map(([k, v]) => `${k} ${v}`).join(', ')}  (details: npx qiye-bridge runs show --tenant ${tenantId} ${runId})`);
  if (run.status === 'awaiting_approval') out(`  parked for approval: npx qiye-bridge runs show --tenant ${tenantId} ${runId}`);
  if (c.failed > 0) out(`  failures: npx qiye-bridge runs show --tenant ${tenantId} ${runId}`);

  for await (const m of stores.mappings.list(tenantId, tenant.sync.source, 'person', { pageSize: 20 })) {
    if (m.status !== 'active') continue;
    report.examplePerson = { sourceId: m.sourceId, accountName: m.neteaseId };
    out(`  sign in as ${m.neteaseId}@${tenant.netease.domain}: npx qiye-bridge sso-link --tenant ${tenantId} --user ${m.sourceId}`);
    break;
  }
  return report;
}
