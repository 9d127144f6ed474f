/**
 * Crash tests (recovery issue, Build 5): the local stack runs as a CHILD PROCESS
 * (crash-child.ts: local/stack.ts with its DynamoDB on disk in a temp folder and its
 * in-memory SQS), the EKP and NetEase simulators run in this process. A full run of an
 * org of a few hundred people is started by the stack's own schedule; the child is killed
 * with SIGKILL at one of three points (while planning, early in apply, late in apply),
 * restarted on the same data folder, and left alone: no operator step. The test then waits
 * (bounded) until the tenant is free and NetEase holds exactly the source: one active
 * mailbox per active person with an address (matched by job number: none missing, none
 * twice), no other mailbox, one unit per active department.
 *
 * fauxqs keeps its messages in memory, so the kill loses every batch in flight: only the
 * stuck-run takeover (recover-runs.ts) can finish the run, from the stored plan and progress.
 * The child runs with the schedule every 3 s, a stuck threshold of 10 s, and failed records
 * visible again after 5 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../support/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ekpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { RunningSimulator } from '../../local/simulators/simulator';
import { provisionSandboxSecrets } from '../../local/sandbox';
import { LOCAL_STAGE } from '../../local/stack';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantsFileSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import type { RunRecord } from '../../shared/ports/run-store';
import { generateOrg, type GeneratedOrg } from '../fixtures/org-generator';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TENANT = 'sandbox';
const DOMAIN = 'crash.example.com';
/** From the restart to a converged tenant; generous for a loaded machine. */
const CONVERGE_MS = 150_000;
/**
 * A kill in apply leaves operations leased for opLeaseSeconds (60 s here: longer than 5 deliveries of 5 s, so the last ones meet live leases); re-sent copies that
 * meet them on their last delivery wait for the lease (apply-batch.ts deferBusy). Bound:
 * that lease + the stuck threshold + a deferral's delay, with room for a loaded machine.
 */
const CONVERGE_AFTER_APPLY_KILL_MS = 200_000;

interface World {
  dir: string;
  env: NodeJS.ProcessEnv;
  tenant: TenantConfig;
  org: GeneratedOrg;
  netease: RunningNeteaseSimulator;
  ekp: RunningSimulator;
  child?: ChildProcess;
  gateway?: string;
  output: string[];
}

const worlds: World[] = [];

async function setup(seed: number): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'qiye-crash-'));
  const [neteasePort, ekpPort, gateway, sso, ddb, sqs] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const file = tenantsFileSchema.parse({
    tenants: [
      {
        id: TENANT,
        netease: { domain: DOMAIN, product: 'crash_product', region: 'hz', apiBaseUrl: `http://127.0.0.1:${neteasePort}/qiyeservice/api`, requestsPerSecond: 60 },
        ekp: { baseUrl: `http://127.0.0.1:${ekpPort}`, auth: { type: 'basic', username: 'mail-bridge' } },
        sync: { source: 'ekp', accountNameRule: 'emailLocalPart' },
      },
    ],
  });
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify(file));
  const tenant = file.tenants[0]!;
  const dataDir = join(dir, 'data');
  // Secrets first (the child finds them and creates nothing); the simulators read keys and passwords from them.
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  await provisionSandboxSecrets({ tenants: [tenant], secrets, stage: LOCAL_STAGE });
  const org = generateOrg({ seed, departments: 30, people: 420, domain: DOMAIN });
  const netease = await startNeteaseSimulator({ host: '127.0.0.1', port: neteasePort, tenants: [tenant], secrets, stage: LOCAL_STAGE });
  const ekp = await ekpSimulator.start({ host: '127.0.0.1', port: ekpPort, tenants: [tenant], secrets, stage: LOCAL_STAGE, orgs: { [TENANT]: org.ekp.elements } } as Parameters<typeof ekpSimulator.start>[0]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QIYE_TENANTS_FILE: tenantsFile,
    QIYE_DATA_DIR: dataDir,
    QIYE_PORT: String(gateway),
    QIYE_SSO_PORT: String(sso),
    QIYE_DYNAMODB_PORT: String(ddb),
    QIYE_SQS_PORT: String(sqs),
    QIYE_SYNC_RATE_MINUTES: '0.05',
    QIYE_SYNC_STUCK_SECONDS: '10',
    // A dead worker's operations stay leased this long (120 s by default): re-sent copies wait for them.
    QIYE_SYNC_OP_LEASE_SECONDS: '60',
    // A record that failed (a busy operation, a throttled call) comes back in 5 s, not the queue's 6 min.
    QIYE_LOCAL_VISIBILITY_SECONDS: '5',
    LOG_LEVEL: 'warn',
  };
  const w: World = { dir, env, tenant, org, netease, ekp, output: [] };
  worlds.push(w);
  return w;
}

async function startChild(w: World): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/crash-child.ts')], { cwd: ROOT, env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  w.child = child;
  const keep = (b: Buffer) => {
    w.output.push(b.toString());
    if (w.output.length > 400) w.output.splice(0, 100);
  };
  child.stderr!.on('data', keep);
  w.gateway = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the child did not start in 60 s:\n${w.output.join('').slice(-3000)}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      keep(b);
      const m = /READY (\S+)/.exec(b.toString());
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the child exited with ${code}:\n${w.output.join('').slice(-3000)}`));
    });
  });
}

async function kill(w: World): Promise<void> {
  const child = w.child!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  w.child = undefined;
}

async function runs(w: World): Promise<RunRecord[]> {
  const res = await fetch(`${w.gateway}/admin/tenants/${TENANT}/runs?limit=20`);
  if (!res.ok) throw new Error(`runs: HTTP ${res.status}`);
  return ((await res.json()) as { runs: RunRecord[] }).runs;
}

/** Poll the child's admin API until `pick` chooses a run (or time out). */
async function waitForRun(w: World, pick: (r: RunRecord) => boolean, timeoutMs: number, intervalMs = 40): Promise<RunRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: RunRecord[] = [];
  while (Date.now() < deadline) {
    last = await runs(w).catch(() => last);
    const hit = last.find(pick);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`no run matched in ${timeoutMs} ms; runs: ${JSON.stringify(last.map((r) => ({ id: r.runId, status: r.status, done: r.completedBatches, total: r.totalBatches })))}`);
}

/** What NetEase should hold, compared by job number (unique per person in the generated org). */
function driftOf(w: World): string[] {
  const problems: string[] = [];
  const state = w.netease.state(DOMAIN);
  const accounts = Object.values(state.accounts);
  const expected = w.org.people.filter((p) => p.status === 'active' && p.email);
  const byJob = new Map<string, number>();
  for (const a of accounts) byJob.set(a.job_no ?? `(none:${a.account_name})`, (byJob.get(a.job_no ?? `(none:${a.account_name})`) ?? 0) + 1);
  for (const [job, n] of byJob) if (n > 1) problems.push(`${n} mailboxes for job number ${job}`);
  for (const p of expected) {
    const mine = accounts.filter((a) => a.job_no === p.jobNumber);
    if (mine.length === 0) problems.push(`no mailbox for ${p.id}`);
    else if (mine.some((a) => a.status !== 0)) problems.push(`mailbox of ${p.id} is not active`);
  }
  if (accounts.length !== expected.length) problems.push(`${accounts.length} mailboxes, expected ${expected.length}`);
  const units = Object.keys(state.units).length;
  const departments = w.org.departments.filter((d) => d.status === 'active').length;
  if (units !== departments) problems.push(`${units} units, expected ${departments}`);
  return problems;
}

/** Bounded wait until no run is planning or applying, the last run ended well, and NetEase equals the source. */
async function converge(w: World, crashed: string, withinMs = CONVERGE_MS): Promise<{ runs: RunRecord[]; ms: number }> {
  const started = Date.now();
  let problems: string[] = ['not checked'];
  let last: RunRecord[] = [];
  while (Date.now() - started < withinMs) {
    last = await runs(w).catch(() => last);
    const active = last.some((r) => r.status === 'planning' || r.status === 'applying');
    const crashedRun = last.find((r) => r.runId === crashed);
    if (!active && crashedRun && crashedRun.status !== 'planning' && crashedRun.status !== 'applying') {
      problems = driftOf(w);
      if (problems.length === 0) return { runs: last, ms: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no convergence in ${withinMs} ms: ${problems.slice(0, 10).join('; ')}; runs ${JSON.stringify(last.slice(0, 5).map((r) => ({ id: r.runId, status: r.status, error: r.error?.code, done: r.completedBatches, total: r.totalBatches })))}`);
}

afterEach(async () => {
  for (const w of worlds.splice(0)) {
    if (w.child) await kill(w).catch(() => undefined);
    await w.netease.stop().catch(() => undefined);
    await w.ekp.stop().catch(() => undefined);
    rmSync(w.dir, { recursive: true, force: true });
  }
});

describe('a full run killed with SIGKILL recovers after a restart, with no operator step', () => {
  it('while planning: the dead run is abandoned and the tenant replanned', async () => {
    const w = await setup(101);
    // A slow EKP keeps the planner in `planning` long enough to be killed there.
    await fetch(`${w.ekp.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 2500 }) });
    await startChild(w);
    const victim = await waitForRun(w, (r) => r.mode === 'full' && r.status === 'planning', 60_000);
    await kill(w);
    await fetch(`${w.ekp.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 0 }) });
    expect(w.netease.state(DOMAIN).accounts).toEqual({}); // nothing applied before the kill

    await startChild(w);
    const { runs: after } = await converge(w, victim.runId);
    const dead = after.find((r) => r.runId === victim.runId)!;
    expect(dead).toMatchObject({ status: 'failed', error: { code: 'SYNC.RUN_ABANDONED' } });
    expect(after.some((r) => r.runId > victim.runId && r.mode === 'full' && r.status === 'success')).toBe(true);
  }, 300_000);

  it('early in apply: the unfinished batches are re-sent and the same run finishes', async () => {
    const w = await setup(202);
    await startChild(w);
    const victim = await waitForRun(w, (r) => r.mode === 'full' && r.status === 'applying' && r.completedBatches >= 1 && r.completedBatches <= r.totalBatches * 0.3, 90_000);
    await kill(w);
    const created = Object.keys(w.netease.state(DOMAIN).accounts).length;

    await startChild(w);
    const { runs: after } = await converge(w, victim.runId, CONVERGE_AFTER_APPLY_KILL_MS);
    const run = after.find((r) => r.runId === victim.runId)!;
    expect(run.status).toBe('success');
    expect(run.recovery?.takeovers).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThan(w.org.people.length); // it really died part-way
  }, 420_000);

  // The kill leaves account creates leased for opLeaseSeconds (60 s here); the takeover re-sends the
  // phase, and with this test's 5 s local visibility the copies reach their last SQS delivery
  // (~25 s) while the dead leases still hold. They must not be failed (that lost ~10 mailboxes
  // before): the last delivery defers the batch until the leases end (apply-batch.ts deferBusy).
  it('late in apply: the unfinished batches are re-sent and the same run finishes', async () => {
    const w = await setup(303);
    await startChild(w);
    const victim = await waitForRun(w, (r) => r.mode === 'full' && r.status === 'applying' && r.completedBatches >= r.totalBatches * 0.6 && r.completedBatches < r.totalBatches, 120_000, 25);
    await kill(w);

    await startChild(w);
    const { runs: after } = await converge(w, victim.runId, CONVERGE_AFTER_APPLY_KILL_MS);
    const run = after.find((r) => r.runId === victim.runId)!;
    expect(run.status).toBe('success');
    expect(run.recovery?.takeovers).toBeGreaterThanOrEqual(1);
  }, 420_000);
});
