import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { setAdminTransportForTests, type AdminResponse } from '../../cli/commands/sync';
import { zeroCounts, type RunRecord } from '../../shared/ports/run-store';

const RUN = '20240601T120000000Z-abcd1234';
const REQUEST = '6f1c2d3e-0000-4000-8000-00000000abcd';
const requests: Array<{ method: string; path: string; body?: unknown }> = [];

function run(status: RunRecord['status'], extra: Partial<RunRecord> = {}): RunRecord {
  return { runId: RUN, tenantId: 'sandbox', source: 'ekp', trigger: 'manual', mode: 'full', dryRun: false, startedAt: Date.UTC(2024, 5, 1, 12), status, counts: zeroCounts(), pendingBatches: 0, totalBatches: 4, completedBatches: 0, updatedAt: 0, ...extra };
}

function fake(answers: Array<(path: string, body?: unknown) => unknown>): void {
  let i = 0;
  setAdminTransportForTests(() => async (method, path, body): Promise<AdminResponse> => {
    requests.push({ method, path, ...(body !== undefined ? { body } : {}) });
    const next = answers[Math.min(i++, answers.length - 1)]!;
    const json = next(path, body) as { status?: number } & Record<string, unknown>;
    const status = typeof json.status === 'number' && json.error ? json.status : 200;
    return { status, text: JSON.stringify(json), json };
  });
}

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  process.env.QIYE_TENANTS_FILE = 'config/tenants.local.json';
});
afterEach(() => {
  setAdminTransportForTests(undefined);
  requests.length = 0;
});

describe('qiye-bridge sync commands', () => {
  it('sync run --wait follows the queued request to its run, shows one progress line per change and exits 3 when some objects failed', async () => {
    const counts = { ...zeroCounts(), fetched: 264, created: 100 };
    fake([
      () => ({ requestId: REQUEST, status: 'queued', tenantId: 'sandbox', mode: 'full', dryRun: false }),
      () => ({ requestId: REQUEST, status: 'queued' }),
      () => ({ requestId: REQUEST, status: 'started', runId: RUN, run: run('planning', { totalBatches: 0 }) }),
      () => ({ run: run('applying', { completedBatches: 1, counts }) }),
      () => ({ run: run('applying', { completedBatches: 1, counts }) }),
      () => ({ run: run('warning', { completedBatches: 4, counts: { ...counts, created: 250, failed: 1 }, endedAt: Date.UTC(2024, 5, 1, 12, 0, 9) }) }),
      () => ({
        run: run('warning', { completedBatches: 4, counts: { ...counts, created: 250, failed: 1 }, endedAt: Date.UTC(2024, 5, 1, 12, 0, 9) }),
        errors: [{ objectType: 'department', sourceId: 'd1', operation: 'unit.move', errorCode: 'SYNC.UNIT_MOVE_UNSUPPORTED', message: 'move it in the console' }],
        errorsTruncated: false,
      }),
    ]);
    const r = await cli('sync', 'run', '--tenant', 'sandbox', '--full', '--wait');
    expect(r.code).toBe(3);
    expect(requests[0]).toEqual({ method: 'POST', path: '/admin/tenants/sandbox/sync', body: { mode: 'full' } });
    expect(requests.slice(1, 3).map((q) => q.path)).toEqual([`/admin/tenants/sandbox/sync/requests/${REQUEST}`, `/admin/tenants/sandbox/sync/requests/${REQUEST}`]);
    expect(requests[3]!.path).toBe(`/admin/tenants/sandbox/runs/${RUN}`);
    expect(r.out).toContain(`Request ${REQUEST}: queued for the sync planner...`);
    expect(r.out).toContain(`Run ${RUN} started (full): planning`);
    const progress = r.out.split('\n').filter((l) => l.startsWith(`${RUN} `));
    expect(progress).toHaveLength(2); // the repeated state printed once
    expect(progress[0]).toContain('applying: batches 1/4');
    expect(progress[1]).toContain('warning: batches 4/4');
    expect(r.out).toMatch(/unit.move +SYNC.UNIT_MOVE_UNSUPPORTED: move it in the console/);
  }, 20_000);

  it('sync run without --wait only queues the request and says where the run will appear', async () => {
    fake([() => ({ requestId: REQUEST, status: 'queued', tenantId: 'sandbox', mode: 'incremental', dryRun: false })]);
    const r = await cli('sync', 'run', '--tenant', 'sandbox');
    expect(r.code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(r.out).toContain(`request ${REQUEST}, queued`);
    expect(r.out).toContain('npx qiye-bridge runs list --tenant sandbox');
  });

  it('sync run --wait exits 1 with the reason when the planner skipped the request because another run held the tenant', async () => {
    const other = '20240601T115900000Z-ffff0000';
    fake([
      () => ({ requestId: REQUEST, status: 'queued', tenantId: 'sandbox', mode: 'full', dryRun: false }),
      () => ({ requestId: REQUEST, status: 'skipped', reason: `a run is in progress: ${other}`, runId: other }),
    ]);
    const r = await cli('sync', 'run', '--tenant', 'sandbox', '--full', '--wait');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error (SYNC.RUN_IN_PROGRESS): request ${REQUEST} was not started: a run is in progress: ${other}`);
  });

  it('sync run --dry-run waits for the plan and prints it, without progress lines', async () => {
    fake([
      () => ({ requestId: REQUEST, status: 'queued', tenantId: 'sandbox', mode: 'full', dryRun: true }),
      () => ({ requestId: REQUEST, status: 'started', runId: RUN, run: run('planning', { dryRun: true }) }),
      () => ({ run: run('dry_run', { dryRun: true, endedAt: Date.UTC(2024, 5, 1, 12, 0, 1) }) }),
      () => 'Plan X (full run): ready; 3 operations\n  Operations:\n    [0] account p1: create account',
    ]);
    const r = await cli('sync', 'run', '--tenant', 'sandbox', '--full', '--dry-run');
    expect(r.code).toBe(0);
    expect(requests.map((q) => q.path).at(-1)).toBe(`/admin/tenants/sandbox/runs/${RUN}/plan`);
    expect(r.out).toContain(`Run ${RUN} started (full, dry run): planning`);
    expect(r.out).toMatch(/\[0\] account p1: create account$/);
    expect(r.out.split('\n').filter((l) => l.startsWith(`${RUN} `))).toEqual([]);
  });

  it('sync reject --replan reports the queued run without deletions', async () => {
    fake([() => ({ run: run('rejected'), replan: { requestId: REQUEST, status: 'queued', tenantId: 'sandbox', mode: 'full', dryRun: false } })]);
    const r = await cli('sync', 'reject', '--tenant', 'sandbox', '--run', RUN, '--replan');
    expect(r.code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'POST', path: `/admin/tenants/sandbox/runs/${RUN}/reject`, body: { replan: true } });
    expect(r.out).toContain(`Run ${RUN} rejected.`);
    expect(r.out).toContain(`A full run without deletions is queued (request ${REQUEST})`);
  });

  it('sync abandon ends the run through the admin API and says whether the tenant was freed', async () => {
    fake([() => ({ run: run('failed', { error: { code: 'SYNC.RUN_ABANDONED', message: 'abandoned by operator' } }), released: true })]);
    const r = await cli('sync', 'abandon', '--tenant', 'sandbox', '--run', RUN);
    expect(r.code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'POST', path: `/admin/tenants/sandbox/runs/${RUN}/abandon` });
    expect(r.out).toContain(`Run ${RUN} abandoned (SYNC.RUN_ABANDONED).`);
    expect(r.out).toContain('The tenant is free');
  });

  it('runs show prints where an applying run stands, and its source data problems', async () => {
    const progress = { status: 'applying', lastProgressAt: Date.UTC(2024, 5, 1, 12), idleMs: 700_000, completedBatches: 30, totalBatches: 120, phase: { index: 1, of: 3, completed: 5, batches: 40 }, stuck: true, lockFreesAt: Date.UTC(2024, 5, 1, 12, 30) };
    const dataNotes = [{ type: 'department', sourceId: 'd9', code: 'departmentQuarantined', detail: 'department d9 is its own parent: quarantined' }];
    fake([() => ({ run: run('applying', { totalBatches: 120, completedBatches: 30 }), errors: [], errorsTruncated: false, progress, dataNotes })]);
    const r = await cli('runs', 'show', '--tenant', 'sandbox', RUN);
    expect(r.out).toMatch(/progress {2}applying 30\/120 batches \(phase 2 of 3: 5\/40\); last progress 2024-06-01T12:00:00Z \(700 s ago\); STUCK.*the lock frees at 2024-06-01T12:30:00Z/);
    expect(r.out).toContain('departmentQuarantined: department d9 is its own parent');
  });

  it('mappings import checks the file before sending anything', async () => {
    fake([() => ({ linked: 1, replaced: 0, unchanged: 0 })]);
    const dir = mkdtempSync(join(tmpdir(), 'links-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'sourceId,type,neteaseId\np1,person\n');
    const r = await cli('mappings', 'import', '--tenant', 'sandbox', '--file', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/line 1: expected 3 columns/);
    expect(requests).toEqual([]);
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'p1,Person,zhang.wei\n"d,1",department,1001\n');
    const ok = await cli('mappings', 'import', '--tenant', 'sandbox', '--file', good);
    expect(ok.code).toBe(0);
    expect((requests[0]!.body as { rows: unknown[] }).rows).toEqual([
      { sourceId: 'p1', type: 'person', neteaseId: 'zhang.wei' },
      { sourceId: 'd,1', type: 'department', neteaseId: '1001' },
    ]);
  });

  it('shows API errors with their code and exits 1', async () => {
    fake([() => ({ status: 409, error: 'SYNC.RUN_IN_PROGRESS', message: `a run is in progress: ${RUN}` })]);
    const r = await cli('sync', 'run', '--tenant', 'sandbox');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error (SYNC.RUN_IN_PROGRESS): a run is in progress: ${RUN}`);
  });

  it('refuses --json with --csv, and an unknown tenant, without calling the API', async () => {
    fake([() => ({})]);
    expect((await cli('runs', 'show', '--tenant', 'sandbox', RUN, '--json', '--csv')).code).toBe(1);
    expect((await cli('runs', 'list', '--tenant', 'nope')).err).toMatch(/Unknown tenant "nope"/);
    expect(requests).toEqual([]);
  });

  it('runs list prints one line per run, newest first', async () => {
    fake([() => ({ runs: [run('success', { counts: { ...zeroCounts(), created: 3 }, endedAt: Date.UTC(2024, 5, 1, 12, 0, 2) }), run('awaiting_approval', { runId: '20240601T110000000Z-ffff0000' })] })]);
    const r = await cli('runs', 'list', '--tenant', 'sandbox', '--limit', '2');
    expect(requests[0]!.path).toBe('/admin/tenants/sandbox/runs?limit=2');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${RUN} +2024-06-01 12:00:00 +manual +full +success +2.0 s +fetched 0, created 3`));
    expect(lines[1]).toContain('awaiting_approval');
  });
});
