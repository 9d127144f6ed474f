/**
 * The sync engine over the wire: the local stack (dynalite, fauxqs, the real SQS poller and
 * the real handler modules) with the EKP and NetEase simulators on random ports. The
 * planner is invoked as Lambda would be, batches travel through fauxqs to the worker, the
 * admin API serves the runs, and an edit made through the EKP simulator's control API
 * reaches NetEase after the next scheduled (incremental) run. On-demand runs (the admin
 * route, the CLI) are queued on the plan queue and started by the planner's SQS path.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { runFirstSync } from '../../local/first-sync';
import { startEkpSimulator, type RunningEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import type { RunningNeteaseSimulator } from '../../local/simulators/netease';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { RunRecord } from '../../shared/ports/run-store';
import { generateOrg } from '../fixtures/org-generator';
import { main as cliMain } from '../../cli/main';
import { driftCheck, MemoryDirectorySource } from './sync-harness';
import { saveEnv } from '../support/env';
import { startWiredSimulators } from '../support/wired-simulators';

const TENANT = 'wire-test';
const DOMAIN = 'wire.example.com';
const org = generateOrg({ seed: 99, departments: 12, people: 50, domain: DOMAIN });

let dataDir: string;
let wired: { stop(): Promise<void> } | undefined;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
let ekp: RunningEkpSimulator;

function tenantConfig(neteaseUrl: string, ekpUrl: string) {
  return {
    id: TENANT,
    netease: {
      domain: DOMAIN,
      product: 'wire_product',
      region: 'hz',
      apiBaseUrl: `${neteaseUrl}/qiyeservice/api`,
      ssoEntryUrl: `${neteaseUrl}/domain/oa/Entry`,
      unreadUrl: `${neteaseUrl}/oaserver/user/getUnreadMsg`,
      requestsPerSecond: 500,
    },
    ekp: { baseUrl: ekpUrl, auth: { type: 'basic', username: 'mail-bridge' } },
    sync: { source: 'ekp', deleteThreshold: { count: 50, percent: 50 } },
  };
}

const restoreEnv = saveEnv('LOG_LEVEL');
beforeAll(async () => {
  // The handlers log through their runtime logger: keep the test output to errors.
  process.env.LOG_LEVEL = 'error';
  const started = await startWiredSimulators({
    prefix: 'qiye-sync-wire-',
    tenant: tenantConfig,
    startSource: (draft, secrets) => startEkpSimulator({ host: '127.0.0.1', port: 0, tenants: [draft], secrets, stage: 'local', orgs: { [TENANT]: org.ekp.elements } }),
  });
  ({ dataDir, netease, source: ekp } = started);
  wired = started;
  const { tenantsFile } = started;
  stack = await startLocalStack({
    dataDir,
    tenantsFile,
    ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 },
    schedule: false,
    simulators: [],
    localVisibilitySeconds: 1,
    logger: createMemoryLogger('error'),
  });
}, 60_000);

afterAll(async () => {
  restoreEnv();
  await stack?.stop();
  await wired?.stop();
});

async function admin(path: string, init: RequestInit = {}): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${stack.urls.gateway}/admin/tenants/${TENANT}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

async function untilEnded(runId: string, ms = 60_000): Promise<RunRecord> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await admin(`/runs/${runId}`);
    const run = body?.run as RunRecord | undefined;
    if (run && !['planning', 'applying'].includes(run.status)) return run;
    if (Date.now() > end) throw new Error(`run ${runId} did not end: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Wait until the planner has started the request's run (through the plan queue). */
async function untilStarted(requestId: string, ms = 60_000): Promise<{ runId: string }> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await admin(`/sync/requests/${requestId}`);
    if (body?.status === 'started') return { runId: body.runId as string };
    if (body?.status === 'skipped' || body?.status === 'failed') throw new Error(`request ${requestId} ${body.status}: ${JSON.stringify(body)}`);
    if (Date.now() > end) throw new Error(`request ${requestId} did not start: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('sync over the local stack', () => {
  it('runs the initial full sync through the planner, SQS and the worker, then applies an EKP edit on the next scheduled run', async () => {
    // What `npm start` does on a first start: invoke the planner for a full run, wait, summarize.
    const lines: string[] = [];
    const first = await runFirstSync(stack, { tenantId: TENANT, out: (l) => lines.push(l) });
    const run = first.run!;
    const runId = run.runId;
    expect(run.mode).toBe('full');
    expect(run.status).toBe('success');
    expect(lines.join('\n')).toMatch(new RegExp(`sso-link --tenant ${TENANT} --user ${first.examplePerson!.sourceId}`));
    expect((await runFirstSync(stack, { tenantId: TENANT })).skipped).toMatch(/not the first start/);
    const source = new MemoryDirectorySource(org.departments, org.people);
    const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
    const view = { netease: () => netease.state(DOMAIN), stores, tenant: tenantSchema.parse(tenantConfig(netease.url, ekp.url)), source };
    expect(await driftCheck(view)).toEqual([]);
    const active = org.people.filter((p) => p.status === 'active' && p.email);
    expect(run.counts.created).toBe(active.length + org.departments.length);

    // An edit in EKP...
    const person = active[0]!;
    const edited = await fetch(`${ekp.url}/__sim/people?tenant=${TENANT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: person.id, name: '改过的名字' }) });
    expect(edited.status).toBeLessThan(300);
    // ...reaches NetEase after the next scheduled run, which is incremental.
    const trig = await fetch(`${stack.urls.gateway}/_local/trigger/syncPlanner`, { method: 'POST' });
    const triggered = (await trig.json()) as { result: { tenants: Array<{ runId: string; mode: string }> } };
    const next = triggered.result.tenants.find((t) => t.runId)!;
    expect(next.mode).toBe('incremental');
    const ended = await untilEnded(next.runId);
    expect(ended.status).toBe('success');
    expect(ended.counts.updated).toBe(1);
    const account = person.email!.split('@')[0]!;
    expect(netease.state(DOMAIN).accounts[account]!.nickname).toBe('改过的名字');

    // The admin API: runs, CSV results, mappings, explain, dry run, watermarks.
    const runs = await admin('/runs');
    expect(runs.body.runs.map((r: RunRecord) => r.runId)).toEqual([next.runId, runId]);
    const csv = await admin(`/runs/${next.runId}?format=csv`);
    expect(csv.text.split('\r\n')[1]).toMatch(new RegExp(`^person,${person.id},account.update,applied,`));
    const mappings = await admin('/mappings?type=department&limit=5');
    expect(mappings.body.mappings).toHaveLength(5);
    expect(mappings.body.cursor).toBeDefined();
    const explained = await admin(`/explain/${person.id}`);
    expect(explained.body).toMatchObject({ type: 'person', mapping: { neteaseId: account }, source: { read: 'snapshot', record: { displayName: '改过的名字' } } });
    expect(explained.body.history[0]).toMatchObject({ runId: next.runId, operation: 'account.update', outcome: 'applied' });
    const dry = await admin('/sync', { method: 'POST', body: JSON.stringify({ mode: 'full', dryRun: true }) });
    expect(dry.status).toBe(202);
    expect(dry.body).toMatchObject({ status: 'queued', dryRun: true });
    const dryRun = await untilEnded((await untilStarted(dry.body.requestId)).runId);
    expect(dryRun.status).toBe('dry_run');
    expect((await admin(`/runs/${dryRun.runId}/plan`)).text).toMatch(/empty; 0 operations/);

    // An on-demand run: the admin route only queues it (202); the planner takes it from the
    // plan queue (fauxqs, the real poller), and the run carries the request id.
    const other = active[1]!;
    await fetch(`${ekp.url}/__sim/people?tenant=${TENANT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: other.id, name: '管理接口改名' }) });
    const requested = await admin('/sync', { method: 'POST', body: JSON.stringify({ mode: 'incremental' }) });
    expect(requested.status).toBe(202);
    expect(requested.body).toEqual({ requestId: expect.any(String), status: 'queued', tenantId: TENANT, mode: 'incremental', dryRun: false });
    const onDemand = await untilEnded((await untilStarted(requested.body.requestId)).runId);
    expect(onDemand).toMatchObject({ status: 'success', trigger: 'manual', mode: 'incremental', requestId: requested.body.requestId });
    expect(onDemand.counts.updated).toBe(1);
    expect(netease.state(DOMAIN).accounts[other.email!.split('@')[0]!]!.nickname).toBe('管理接口改名');
    const listed = (await admin('/runs?limit=1')).body.runs[0] as RunRecord;
    expect(listed).toMatchObject({ runId: onDemand.runId, requestId: requested.body.requestId });

    const bad = await admin('/sync', { method: 'POST', body: JSON.stringify({ mode: 'sideways' }) });
    expect(bad.status).toBe(400);
    const cleared = await admin('/watermarks', { method: 'DELETE' });
    expect(cleared.body).toEqual({ cleared: 2 });
  }, 120_000);

  it('the operator CLI drives the same routes: run with --wait, list, show (--csv), mappings, explain, import', async () => {
    process.env.QIYE_ADMIN_URL = `${stack.urls.gateway}`;
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await cliMain(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    try {
      const person = org.people.find((p) => p.status === 'active' && p.email)!;
      await fetch(`${ekp.url}/__sim/people?tenant=${TENANT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: person.id, name: '命令行改名' }) });
      const dry = await cli('sync', 'run', '--tenant', TENANT, '--full', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.out).toMatch(/update account/);
      const run = await cli('sync', 'run', '--tenant', TENANT, '--full', '--wait');
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/status +success/);
      expect(run.out).toMatch(/updated 1/);
      const runId = /Run (\S+) started/.exec(run.out)![1]!;
      const list = await cli('runs', 'list', '--tenant', TENANT);
      expect(list.out.split('\n')[0]).toContain(runId);
      // Planned by the planner from the plan queue (only that path records a request id).
      const listed = JSON.parse((await cli('runs', 'list', '--tenant', TENANT, '--limit', '1', '--json')).out) as RunRecord[];
      expect(listed[0]).toMatchObject({ runId, trigger: 'manual', mode: 'full', status: 'success', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      const csv = await cli('runs', 'show', '--tenant', TENANT, runId, '--csv');
      expect(csv.out.split('\n')).toEqual([expect.stringMatching(/^objectType,sourceId/), expect.stringMatching(new RegExp(`^person,${person.id},account.update,applied`))]);
      const mappings = await cli('mappings', 'list', '--tenant', TENANT, '--type', 'department');
      expect(mappings.out).toContain(`${org.departments.length} department mapping(s)`);
      const ex = await cli('explain', '--tenant', TENANT, person.id);
      expect(ex.out).toMatch(/source +命令行改名/);
      expect(ex.out).toMatch(/result +\S+ account.update applied/);
      const file = join(dataDir, 'links.csv');
      await writeFile(file, 'sourceId,type,neteaseId\nsomeone,person,nobody-at-all\n');
      const imported = await cli('mappings', 'import', '--tenant', TENANT, '--file', file);
      expect(imported.code).toBe(1);
      expect(imported.err).toMatch(/SYNC.IMPORT_INVALID.*nothing was written/s);
      const none = await cli('explain', '--tenant', TENANT, 'someone', '--no-source');
      expect(none.out).toMatch(/mapping +none/);
    } finally {
      delete process.env.QIYE_ADMIN_URL;
    }
  }, 60_000);
});
