/**
 * The sync engine end to end, in process: startSyncRun -> stored batches -> the real
 * sync worker handler (sqsBatchHandler + applyBatch) through an SQS stand-in -> the real
 * NetEase client over HTTP -> the NetEase simulator; memory state stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { mulberry32 } from '../../local/simulators/sim-random';
import { NeteaseApiError } from '../../shared/adapters/netease';
import type { Department, Person } from '../../shared/domain/directory';
import { DAY_MS } from '../../shared/domain/sync-plan';
import { syncJobMessage } from '../../shared/contracts/sync-job';
import {
  approveRun,
  getRunDetail,
  rejectRun,
  runResultsCsv,
  startSyncRun,
  SyncRunInProgressError,
  explainObject,
  importMappings,
  LinkImportError,
  type NeteaseSyncApi,
} from '../../shared/use-cases/sync';
import { generateOrg } from '../fixtures/org-generator';
import { createSyncHarness, driftCheck, MemoryDirectorySource, type HarnessOptions, type SyncHarness } from './sync-harness';

let sim: RunningNeteaseSimulator;
let counter = 0;
const harnesses: SyncHarness[] = [];

beforeAll(async () => {
  sim = await startNeteaseSimulator({ seed: 7 });
});
afterAll(async () => {
  await sim.stop();
});

/** A fresh tenant (own domain) on the shared simulator, with a small generated org. */
async function setup(opts: HarnessOptions & { departments?: number; people?: number } = {}): Promise<SyncHarness> {
  const tenantId = `t${++counter}-acme`;
  const domain = `${tenantId}.example.com`;
  const org = generateOrg({ seed: 11 + counter, departments: opts.departments ?? 10, people: opts.people ?? 40, domain });
  const h = await createSyncHarness({ sim, tenantId, domain, source: new MemoryDirectorySource(org.departments, org.people), ...opts });
  harnesses.push(h);
  return h;
}

const activeWithEmail = (h: SyncHarness) => h.source.allPeople().filter((p) => p.status === 'active' && p.email);

describe('a first full run', () => {
  it('creates every unit and mailbox, writes mappings readable both ways, and a second run changes nothing', async () => {
    const h = await setup();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    const depts = h.source.allDepartments();
    const people = activeWithEmail(h);
    expect(run.counts.created).toBe(depts.length + people.length);
    expect(run.counts.failed).toBe(0);
    expect(run.pendingBatches).toBe(0);
    expect(await driftCheck(h)).toEqual([]);
    expect(Object.keys(h.netease().accounts)).toHaveLength(people.length);

    // Both ways: source id -> account name, account name -> source id.
    const p = people[0]!;
    const m = await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: p.id });
    expect(m?.neteaseId).toBe(p.email!.split('@')[0]);
    const back = await h.stores.mappings.findByNeteaseId(h.tenant.id, 'person', m!.neteaseId.toUpperCase());
    expect(back.map((r) => r.sourceId)).toEqual([p.id]);
    // Initial passwords are never recorded anywhere we keep.
    expect(JSON.stringify(h.sim.calls({ domain: h.tenant.netease.domain }).filter((c) => c.path.endsWith('createAccount'))[0]?.params.password)).toBe('"[redacted]"');

    const since = await h.mark();
    const second = await h.run({ mode: 'full' });
    expect(second.run.status).toBe('success');
    expect(second.run.totalBatches).toBe(0);
    expect(h.writeCalls(since)).toEqual([]);
  });

  it('a dry run prints the plan and applies nothing', async () => {
    const h = await setup();
    const since = await h.mark();
    const { run, planText } = await h.run({ mode: 'full', dryRun: true });
    expect(run.status).toBe('dry_run');
    expect(planText).toMatch(/create unit/);
    expect(h.queue.sent).toBe(0);
    expect(h.writeCalls(since)).toEqual([]);
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
  });
});

describe('changes', () => {
  it('renames and moves are updates: no unit or mailbox is deleted and re-created', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const [a, b] = activeWithEmail(h);
    const otherDept = h.source.allDepartments().find((d) => d.id !== a!.mainDepartmentId && d.parentId)!;
    h.source.editPerson(a!.id, (p) => {
      p.displayName = '新名字';
    });
    h.source.editPerson(b!.id, (p) => {
      p.departmentIds = [otherDept.id];
      p.mainDepartmentId = otherDept.id;
    });
    const renamed = h.source.allDepartments().find((d) => d.parentId)!;
    h.source.editDepartment(renamed.id, (d) => {
      d.name = '新部门名称';
    });
    const since = await h.mark();
    const { run } = await h.run({ mode: 'incremental' });
    expect(run.status).toBe('success');
    const calls = h.writeCalls(since).map((c) => c.path).sort();
    expect(calls).toEqual(['moveUnit', 'updateAccount', 'updateUnit']);
    expect(await driftCheck(h)).toEqual([]);
    const unit = Object.values(h.netease().units).find((u) => u.unit_name === '新部门名称');
    expect(unit).toBeDefined();
  });

  it('a department moved to another parent is never deleted and re-created; the unsupported move is reported', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const depts = h.source.allDepartments();
    const leaf = depts.find((d) => d.parentId && !depts.some((c) => c.parentId === d.id) && d.parentId !== depts[0]!.id)!;
    h.source.editDepartment(leaf.id, (d) => {
      d.parentId = depts[0]!.id;
    });
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('warning');
    expect(h.writeCalls(since)).toEqual([]);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    expect(detail.errors).toEqual([expect.objectContaining({ sourceId: leaf.id, operation: 'unit.move', outcome: 'failed', errorCode: 'SYNC.UNIT_MOVE_UNSUPPORTED' })]);
  });

  it('a leaver is suspended, deleted after the grace period, and a returning person is recovered, not recreated', async () => {
    const h = await setup({ sync: { suspendGraceDays: 10, deleteThreshold: { count: 50, percent: 50 } } });
    await h.run({ mode: 'full' });
    const [leaver, returner] = activeWithEmail(h);
    const nameOf = async (id: string) => (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: id }))!.neteaseId;
    const leaverName = await nameOf(leaver!.id);
    const returnerName = await nameOf(returner!.id);
    for (const p of [leaver!, returner!]) h.source.editPerson(p.id, (x) => void (x.status = 'left'));

    let since = await h.mark();
    await h.run({ mode: 'incremental' });
    expect(h.writeCalls(since).map((c) => c.path).sort()).toEqual(['suspendAccount', 'suspendAccount']);
    expect(h.netease().accounts[leaverName]!.status).toBe(1);

    // Within the grace period nothing more happens.
    h.clock.advance(5 * DAY_MS);
    since = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(since)).toEqual([]);

    // The returner comes back: recovered (same mailbox).
    h.source.editPerson(returner!.id, (x) => void (x.status = 'active'));
    since = await h.mark();
    await h.run({ mode: 'incremental' });
    expect(h.writeCalls(since).map((c) => c.path)).toEqual(['recoverAccount']);
    expect(h.netease().accounts[returnerName]!.status).toBe(0);

    // After the grace period the leaver is soft-deleted.
    h.clock.advance(6 * DAY_MS);
    since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.counts.deleted).toBe(1);
    expect(h.writeCalls(since).map((c) => c.path)).toEqual(['deleteAccountSim']);
    expect(h.netease().accounts[leaverName]!.status).toBe(2);
    expect(await driftCheck(h)).toEqual([]);
  });
});

describe('idempotent delivery', () => {
  it('every batch delivered twice makes one NetEase call per operation', async () => {
    const h = await setup();
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' }, { duplicateRate: 1 });
    expect(h.queue.dlq).toEqual([]);
    expect(run.status).toBe('success');
    expect(h.queue.deliveries).toBeGreaterThan(h.queue.sent);
    const calls = h.writeCalls(since);
    expect(calls.filter((c) => c.path === 'createAccount')).toHaveLength(activeWithEmail(h).length);
    expect(calls.filter((c) => c.path === 'createUnit')).toHaveLength(h.source.allDepartments().length);
    expect(calls.every((c) => c.outcome === 'ok')).toBe(true);
    expect(run.counts.created).toBe(h.source.allDepartments().length + activeWithEmail(h).length);

    // A late redelivery of every batch, after the run ended, changes nothing.
    const later = await h.mark();
    await h.queue.send('sync', Array.from({ length: run.totalBatches }, (_, seq) => ({ body: syncJobMessage(h.tenant.id, run.runId, seq) })));
    await h.drain();
    expect(h.writeCalls(later)).toEqual([]);
    expect((await h.stores.runs.get(h.tenant.id, run.runId))!.counts).toEqual(run.counts);
  });

  it('a create whose answer was lost is found and taken, not created twice', async () => {
    let lose = 3;
    const h = await setup({
      wrapApi: (api) => ({
        ...bindAll(api),
        async createAccount(input) {
          const out = await api.createAccount(input);
          if (lose-- > 0) throw new NeteaseApiError({ operation: 'account/createAccount', kind: 'network', retryable: true });
          return out;
        },
      }),
    });
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(await driftCheck(h)).toEqual([]);
    expect(Object.keys(h.netease().accounts)).toHaveLength(activeWithEmail(h).length);
  });

  it('converges under injected retryable faults (HTTP 500, throttling) with duplicate deliveries', async () => {
    const h = await setup({ maxRetries: 0, departments: 12, people: 60 });
    const started = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    h.sim.setFaults({ errorRate: 0.15, throttleRate: 0.05, seed: 3 });
    try {
      await h.drain({ duplicateRate: 0.2, maxReceiveCount: 50, random: mulberry32(5) });
    } finally {
      h.sim.setFaults({ errorRate: 0, throttleRate: 0 });
    }
    expect((await h.stores.runs.get(h.tenant.id, started.run.runId))!.status).toBe('success');
    expect(h.queue.dlq).toEqual([]);
    expect(await driftCheck(h)).toEqual([]);
    const created = h.writeCalls().filter((c) => c.path === 'createAccount' && c.outcome !== 'ok' && c.outcome !== 'HTTP 500' && c.outcome !== 'REQUEST.RATE_LIMITED');
    expect(created).toEqual([]); // no duplicate refusals: nothing was created twice
  });
});

describe('failures', () => {
  it('a failed unit blocks only what depends on it; the next run applies it', async () => {
    let refuse = true;
    let refusedName = '';
    const h = await setup({
      wrapApi: (api) => ({
        ...bindAll(api),
        async createUnit(input) {
          if (refuse && input.unitName === refusedName) throw new NeteaseApiError({ operation: 'unit/createUnit', kind: 'invalid', retryable: false, errorCode: 'PARAM.INVALID' });
          return api.createUnit(input);
        },
      }),
      departments: 30,
      people: 80,
    });
    // Refuse the unit of the department with the most people (a leaf: nothing below it).
    const all = h.source.allDepartments();
    const depts = all.filter((d) => d.parentId && !all.some((c) => c.parentId === d.id) && all.filter((o) => o.name === d.name).length === 1);
    const size = (id: string) => activeWithEmail(h).filter((p) => p.mainDepartmentId === id).length;
    const target = depts.sort((a, b) => size(b.id) - size(a.id))[0]!;
    refusedName = target.name;
    // Departments sharing the name get suffixed unit names (NetEase names are unique), so only this one is refused.
    const finance = [target];
    expect(size(target.id)).toBeGreaterThan(0);
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('warning');
    expect(run.counts.failed).toBe(finance.length);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    const blocked = detail.errors.filter((e) => e.errorCode === 'SYNC.BLOCKED');
    const inFinance = activeWithEmail(h).filter((p) => finance.some((f) => f.id === p.mainDepartmentId));
    expect(blocked.map((b) => b.sourceId).sort()).toEqual(expect.arrayContaining(inFinance.map((p) => p.id).sort()));
    expect(run.counts.created).toBeGreaterThan(0);
    const csv: string[] = [];
    for await (const line of runResultsCsv(h.deps, h.tenant.id, run.runId)) csv.push(line);
    expect(csv[0]).toBe('objectType,sourceId,operation,outcome,errorCode,message,neteaseId,at');
    expect(csv.some((l) => l.includes('SYNC.BLOCKED'))).toBe(true);

    refuse = false;
    const next = await h.run({ mode: 'full' });
    expect(next.run.status).toBe('success');
    expect(await driftCheck(h)).toEqual([]);
  });

  it('a batch stuck in the DLQ leaves the run unfinished; the next run closes it as failed and the watermark does not move', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const p = activeWithEmail(h)[0]!;
    h.source.editPerson(p.id, (x) => void (x.displayName = '改名'));
    h.sim.setFaults({ errorRate: 1 });
    let stuck;
    try {
      stuck = await h.run({ mode: 'incremental' }, { maxReceiveCount: 2 });
    } finally {
      h.sim.setFaults({ errorRate: 0 });
    }
    expect(stuck.run.status).toBe('applying');
    expect(h.queue.dlq).toHaveLength(1);
    expect(await h.stores.watermarks.getAll(h.tenant.id, 'ekp')).toEqual(before);
    await expect(startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' })).rejects.toBeInstanceOf(SyncRunInProgressError);
    h.clock.advance(31 * 60_000); // the stuck run's lease runs out
    const next = await h.run({ mode: 'full' });
    expect(next.run.status).toBe('success');
    expect((await h.stores.runs.get(h.tenant.id, stuck.run.runId))!.status).toBe('failed');
    expect(await driftCheck(h)).toEqual([]);
  });
});

describe('watermarks and locking', () => {
  it('advances the watermark only when the whole run has applied', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const wm1 = (await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value;
    const p = activeWithEmail(h)[0]!;
    h.source.editPerson(p.id, (x) => void (x.displayName = '又改名'));
    const started = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' });
    expect(started.run.mode).toBe('incremental');
    expect(started.run.status).toBe('applying');
    expect((await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value).toBe(wm1);
    await h.drain();
    expect((await h.stores.runs.get(h.tenant.id, started.run.runId))!.status).toBe('success');
    expect(Number((await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value)).toBeGreaterThan(Number(wm1));
  });

  it('two concurrent starts make one run; the other is told which run is in progress', async () => {
    const h = await setup();
    const results = await Promise.allSettled([startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' }), startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'schedule' })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(SyncRunInProgressError);
    const runId = (ok[0] as PromiseFulfilledResult<{ run: { runId: string } }>).value.run.runId;
    expect((refused[0]!.reason as Error).message).toBe(`a run is in progress: ${runId}`);
    expect((await h.stores.runs.list(h.tenant.id)).items).toHaveLength(1);
    await h.drain();
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
  });
});

describe('safety', () => {
  for (const shape of ['empty', 'half-size'] as const) {
    it(`a source that suddenly returns an ${shape} organisation parks the run and deletes nothing`, async () => {
      const h = await setup({ departments: 12, people: 60 });
      await h.run({ mode: 'full' });
      const people = h.source.allPeople();
      const depts = h.source.allDepartments();
      h.source.override = shape === 'empty' ? { departments: [], people: [] } : { departments: depts, people: people.slice(0, Math.floor(people.length / 2)) };
      const since = await h.mark();
      const { run } = await h.run({ mode: 'full' });
      expect(run.status).toBe('awaiting_approval');
      expect(h.writeCalls(since)).toEqual([]);
      const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
      expect(detail.destructive!.length).toBeGreaterThan(0);
      expect((run.summary as { approval: { reasons: string[] } }).approval.reasons.join(' ')).toMatch(/source returned/);
      // The parked run keeps the tenant until decided.
      await expect(startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'schedule' })).rejects.toBeInstanceOf(SyncRunInProgressError);
      // Reject: nothing is applied, the tenant is free again.
      const rejected = await rejectRun(h.deps, { tenantId: h.tenant.id, runId: run.runId, by: 'tester' });
      expect(rejected.run.status).toBe('rejected');
      await h.drain();
      expect(h.writeCalls(since)).toEqual([]);
      expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
    });
  }

  it('approving a parked run applies exactly its plan', async () => {
    const h = await setup({ departments: 8, people: 30, sync: { deleteThreshold: { count: 0, percent: 100 } } });
    await h.run({ mode: 'full' });
    const leaver = activeWithEmail(h)[0]!;
    h.source.editPerson(leaver.id, (x) => void (x.status = 'left'));
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('awaiting_approval');
    expect(h.writeCalls(since)).toEqual([]);
    const approved = await approveRun(h.deps, { tenantId: h.tenant.id, runId: run.runId, by: 'tester', note: 'ok' });
    expect(approved.decision).toMatchObject({ decision: 'approved', by: 'tester' });
    await h.drain();
    const ended = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    expect(ended.status).toBe('success');
    expect(ended.counts.suspended).toBe(1);
    expect(h.writeCalls(since).map((c) => c.path)).toEqual(['suspendAccount']);
    await expect(approveRun(h.deps, { tenantId: h.tenant.id, runId: run.runId, by: 'tester' })).rejects.toThrow(/not awaiting approval/);
  });

  it('reject with replan applies the other changes and withholds the deletions', async () => {
    const h = await setup({ departments: 8, people: 30, sync: { deleteThreshold: { count: 0, percent: 100 } } });
    await h.run({ mode: 'full' });
    const [leaver, renamed] = activeWithEmail(h);
    h.source.editPerson(leaver!.id, (x) => void (x.status = 'left'));
    h.source.editPerson(renamed!.id, (x) => void (x.displayName = '新名'));
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('awaiting_approval');
    const since = await h.mark();
    const { replan } = await rejectRun(h.deps, { tenantId: h.tenant.id, runId: run.runId, by: 'tester', replan: true });
    await h.drain();
    expect(h.writeCalls(since).map((c) => c.path)).toEqual(['updateAccount']);
    expect((await h.stores.runs.get(h.tenant.id, replan!.run.runId))!.status).toBe('success');
  });
});

describe('adoption', () => {
  it('links the mailboxes and units NetEase already has; the first run creates none of them twice', async () => {
    const h = await setup({ departments: 10, people: 50 });
    const people = activeWithEmail(h);
    const depts = h.source.allDepartments();
    // NetEase already has the top of the tree and 80% of the mailboxes (created by hand).
    const byId = new Map(depts.map((d) => [d.id, d]));
    const top = depts.filter((d) => !d.parentId || !byId.get(d.parentId)?.parentId);
    h.sim.seed(h.tenant.netease.domain, {
      units: top.map((d) => ({ unit_name: d.name, ...(d.parentId ? { parent_name: byId.get(d.parentId)!.name } : {}) })),
      accounts: people.slice(0, Math.floor(people.length * 0.8)).map((p) => ({ account_name: p.email!.split('@')[0], nickname: p.displayName })),
    });
    const preexisting = Object.keys(h.netease().accounts).length;
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(run.counts.linked).toBe(preexisting + top.length);
    const creates = h.writeCalls(since).filter((c) => c.path === 'createAccount');
    expect(creates).toHaveLength(people.length - preexisting);
    expect(creates.every((c) => c.outcome === 'ok')).toBe(true);
    expect(h.writeCalls(since).filter((c) => c.path === 'createUnit')).toHaveLength(depts.length - top.length);
    expect(await driftCheck(h)).toEqual([]);
  });

  it('imports links from a CSV: all rows valid or nothing written', async () => {
    const h = await setup({ departments: 5, people: 10 });
    h.sim.seed(h.tenant.netease.domain, { accounts: [{ account_name: 'boss', nickname: 'Boss' }] });
    const person = activeWithEmail(h)[0]!;
    await expect(
      importMappings(h.deps, h.tenant.id, [
        { sourceId: person.id, type: 'person', neteaseId: 'boss' },
        { sourceId: 'x', type: 'person', neteaseId: 'nobody-here' },
      ], 'tester'),
    ).rejects.toBeInstanceOf(LinkImportError);
    expect((await h.stores.mappings.loadAll(h.tenant.id, 'ekp')).person.size).toBe(0);
    const ok = await importMappings(h.deps, h.tenant.id, [{ sourceId: person.id, type: 'person', neteaseId: 'boss' }], 'tester');
    expect(ok).toEqual({ linked: 1, unchanged: 0, replaced: 0 });
    const m = await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: person.id });
    expect(m).toMatchObject({ neteaseId: 'boss', adopted: true, status: 'active' });
    // The next run keeps the imported mailbox and only updates its profile.
    await h.run({ mode: 'full', adopt: false });
    expect(h.netease().accounts[person.email!.split('@')[0]!]).toBeUndefined();
    expect(h.netease().accounts.boss!.nickname).toBe(person.displayName);
    const ex = await explainObject(h.deps, h.tenant.id, person.id);
    expect(ex.type).toBe('person');
    expect(ex.mapping?.neteaseId).toBe('boss');
    expect(ex.history.map((r) => r.operation)).toContain('account.update');
    expect((ex.source?.record as Person | undefined)?.id).toBe(person.id);
  });
});

/** An object with the client's methods bound, so a wrapper can override some of them. */
function bindAll(api: NeteaseSyncApi): NeteaseSyncApi {
  const out: Record<string, unknown> = { domain: api.domain };
  for (const k of ['createUnit', 'updateUnit', 'deleteUnit', 'getUnit', 'getUnitList', 'createAccount', 'getAccount', 'updateAccount', 'moveUnit', 'suspendAccount', 'recoverAccount', 'deleteAccountSim', 'getAllAccounts'] as const) {
    out[k] = (api[k] as (...a: unknown[]) => unknown).bind(api);
  }
  return out as unknown as NeteaseSyncApi;
}

// Silence unused-type lint for fixtures kept for readability.
export type { Department };
