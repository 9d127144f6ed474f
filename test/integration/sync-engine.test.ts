/**
 * The sync engine end to end, in process: startSyncRun -> stored batches -> the real
 * sync worker handler (sqsBatchHandler + applyBatch) through an SQS stand-in -> the real
 * NetEase client over HTTP -> the NetEase simulator; memory state stores.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../local/simulators/sim-random';
import { NeteaseApiError } from '../../shared/adapters/netease';
import type { Department, Person } from '../../shared/domain/directory';
import { DAY_MS } from '../../shared/domain/sync-plan';
import type { Context, SQSRecord } from 'aws-lambda';
import { SYNC_RECORD_RESERVE_MS } from '../../functions/queue/sync-worker/handler';
import { syncJobMessage } from '../../shared/contracts/sync-job';
import { StateStoreError } from '../../shared/ports/store-common';
import { recordingMetrics } from '../../shared/ports/metrics';
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
} from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { driftCheck, type SyncHarness } from './sync-harness';
import { harnessesOnOneSimulator } from './sync-tenants';

const { setup } = harnessesOnOneSimulator({ simSeed: 7, orgSeed: 11, prefix: 't', departments: 10, people: 40 });

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

  it('counts the finished run by status and its operations by kind on the metrics port', async () => {
    // Prepare: the harness's deps with a recording metrics port (the wiring passes the process's metrics).
    const h = await setup();
    const metrics = recordingMetrics();
    h.deps.metrics = metrics;
    // Act
    const { run } = await h.run({ mode: 'full' });
    // Assess: one SyncRuns count, then one SyncOperations count per non-zero kind of the run's counts, tenant as metadata.
    expect(run.status).toBe('success');
    expect(run.counts.created).toBeGreaterThan(0);
    expect(metrics.counts).toEqual([
      { name: 'SyncRuns', value: 1, dimensions: { status: 'success', tenant: h.tenant.id } },
      ...Object.entries(run.counts)
        .filter(([, n]) => n > 0)
        .map(([kind, n]) => ({ name: 'SyncOperations', value: n, dimensions: { kind, tenant: h.tenant.id } })),
    ]);
    expect(metrics.counts.find((c) => c.dimensions.kind === 'created')?.value).toBe(run.counts.created);
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

  it('a department moved to another parent on the legacy API ends under it: a new unit, its people moved (never re-created), the old unit deleted', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const depts = h.source.allDepartments();
    const leaf = depts.find((d) => d.parentId && !depts.some((c) => c.parentId === d.id) && d.parentId !== depts[0]!.id)!;
    h.source.editDepartment(leaf.id, (d) => {
      d.parentId = depts[0]!.id;
    });
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    const writes = h.writeCalls(since).map((c) => c.path);
    expect(writes.filter((w) => w === 'createUnit' || w === 'deleteUnit').sort()).toEqual(['createUnit', 'deleteUnit']);
    expect(writes.some((w) => w === 'createAccount' || w === 'deleteAccountSim' || w === 'suspendAccount')).toBe(false);
    expect(await driftCheck(h)).toEqual([]);
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

  it('an object still failing on its last delivery is recorded as failed: the run ends, only its dependents wait, and the next run applies it', async () => {
    let failing = true;
    const h = await setup({
      wrapApi: (api) => ({
        ...bindAll(api),
        async createUnit(input) {
          // A persistent retryable error (HTTP 500 on every attempt) for one unit only.
          if (failing && input.unitName === '卡住的部门') throw new NeteaseApiError({ operation: 'unit/createUnit', kind: 'server', retryable: true, httpStatus: 500 });
          return api.createUnit(input);
        },
      }),
    });
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const top = h.source.allDepartments().find((d) => !d.parentId)!;
    const template = activeWithEmail(h)[0]!;
    const domain = h.tenant.netease.domain;
    h.source.putDepartment({ id: 'd-stuck', name: '卡住的部门', parentId: top.id, order: 90, status: 'active' });
    h.source.putDepartment({ id: 'd-fine', name: '正常的部门', parentId: top.id, order: 91, status: 'active' });
    h.source.putPerson({ ...template, id: 'p-stuck', loginName: 'stuck.one', jobNumber: 'S-1', email: `stuck.one@${domain}`, mobile: undefined, departmentIds: ['d-stuck'], mainDepartmentId: 'd-stuck' });
    h.source.putPerson({ ...template, id: 'p-fine', loginName: 'fine.one', jobNumber: 'F-1', email: `fine.one@${domain}`, mobile: undefined, departmentIds: ['d-fine'], mainDepartmentId: 'd-fine' });

    const { run } = await h.run({ mode: 'incremental' }, { maxReceiveCount: 3 });
    // Before: the unit's batch went to the DLQ, its phase never completed, and the run (with
    // the unrelated new person behind it) waited for the lock to expire.
    expect(run.status).toBe('warning');
    expect(h.queue.dlq).toEqual([]);
    expect(run.counts.failed).toBe(1);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    expect(detail.errors.map((e) => [e.sourceId, e.outcome, e.errorCode])).toEqual(
      expect.arrayContaining([
        ['d-stuck', 'failed', 'UPSTREAM.SERVER_ERROR'],
        ['p-stuck', 'skipped', 'SYNC.BLOCKED'],
      ]),
    );
    expect(detail.errors).toHaveLength(2);
    // The unrelated department and its person, in the phases after the failure, were applied.
    const ne = h.netease();
    expect(Object.values(ne.units).some((u) => u.unit_name === '正常的部门')).toBe(true);
    expect(Object.keys(ne.accounts)).toContain('fine.one');
    expect(Object.keys(ne.accounts)).not.toContain('stuck.one');
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
    // An incremental run with a failure keeps its watermarks: the next one re-reads and retries.
    expect(await h.stores.watermarks.getAll(h.tenant.id, 'ekp')).toEqual(before);

    failing = false;
    const next = await h.run({ mode: 'incremental' });
    expect(next.run.status).toBe('success');
    expect(Object.keys(h.netease().accounts)).toContain('stuck.one');
    expect(await driftCheck(h)).toEqual([]);
  });

  it('a batch stuck in the DLQ for a reason outside its operations leaves the run unfinished; the next run closes it as failed and the watermark does not move', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const p = activeWithEmail(h)[0]!;
    h.source.editPerson(p.id, (x) => void (x.displayName = '改名'));
    // The state store cannot serve the stored batch on any delivery.
    const getBatch = h.stores.plans.getBatch.bind(h.stores.plans);
    h.stores.plans.getBatch = async () => {
      throw new StateStoreError('STATE.UNAVAILABLE', 'the table is unavailable', { retryable: true });
    };
    let stuck;
    try {
      stuck = await h.run({ mode: 'incremental' }, { maxReceiveCount: 2 });
    } finally {
      h.stores.plans.getBatch = getBatch;
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

describe('the sync worker near its deadline', () => {
  it('starts no batch it may not finish: with too little time left the records come back untouched; with time, they apply', async () => {
    const h = await setup({ options: { batchSize: 2 } });
    const started = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    const records = h.queue.ready.splice(0, 2).map((m) => ({ messageId: m.messageId, body: m.body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord);
    expect(records.length).toBeGreaterThan(0);
    const mark = await h.mark();
    const late = await h.worker({ Records: records }, { getRemainingTimeInMillis: () => SYNC_RECORD_RESERVE_MS - 1 } as Context);
    expect(late.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
    expect(h.writeCalls(mark)).toEqual([]);
    expect((await h.stores.runs.get(h.tenant.id, started.run.runId))!.completedBatches).toBe(0);

    const early = await h.worker({ Records: records }, { getRemainingTimeInMillis: () => 60_000 } as Context);
    expect(early.batchItemFailures).toEqual([]);
    expect((await h.stores.runs.get(h.tenant.id, started.run.runId))!.completedBatches).toBe(records.length);
    await h.drain();
    expect((await h.stores.runs.get(h.tenant.id, started.run.runId))!.status).toBe('success');
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
    expect((refused[0]!.reason as Error).message).toMatch(new RegExp(`^a run is in progress: ${runId} \\((planning|applying|the lock frees)`));
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
      // Half-size: fewer active people remain than half the mailboxes the bridge manages
      // (a plain half of the rows may hold a few more, the generated order being random).
      const managed = activeWithEmail(h).length;
      let kept = 0;
      const half = people.filter((p) => p.status !== 'active' || kept++ < Math.ceil(managed / 2) - 1);
      h.source.override = shape === 'empty' ? { departments: [], people: [] } : { departments: depts, people: half };
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

  it('a swap of two links interrupted at any write never links one mailbox twice, and importing the same file again completes it', async () => {
    const h = await setup({ departments: 4, people: 8 });
    await h.run({ mode: 'full' });
    const [a, b] = activeWithEmail(h);
    const key = (p: Person) => ({ tenantId: h.tenant.id, source: 'ekp' as const, objectType: 'person' as const, sourceId: p.id });
    const nameA = (await h.stores.mappings.get(key(a!)))!.neteaseId;
    const nameB = (await h.stores.mappings.get(key(b!)))!.neteaseId;
    const mappings = h.stores.mappings;
    const put = mappings.put.bind(mappings);
    const del = mappings.delete.bind(mappings);
    const linkedTwice = async () => {
      const names = [...(await mappings.loadAll(h.tenant.id, 'ekp')).person.values()].filter((m) => m.status !== 'deleted').map((m) => m.neteaseId.toLowerCase());
      return names.filter((n, i) => names.indexOf(n) !== i);
    };
    for (let crashAt = 1; crashAt <= 4; crashAt++) {
      // Alternate directions: swap, then swap back.
      const swapped = crashAt % 2 === 1;
      const file = [
        { sourceId: a!.id, type: 'person' as const, neteaseId: swapped ? nameB : nameA },
        { sourceId: b!.id, type: 'person' as const, neteaseId: swapped ? nameA : nameB },
      ];
      let writes = 0;
      const crash = () => {
        if (++writes === crashAt) throw new Error('the process died');
      };
      mappings.put = async (...args) => (crash(), put(...args));
      mappings.delete = async (...args) => (crash(), del(...args));
      try {
        await expect(importMappings(h.deps, h.tenant.id, file, 'tester')).rejects.toThrow('the process died');
      } finally {
        mappings.put = put;
        mappings.delete = del;
      }
      // Before: the first put made A and B share one mailbox, and every plan was refused.
      expect(await linkedTwice()).toEqual([]);
      const dry = await h.run({ mode: 'full', dryRun: true });
      expect(dry.run.status).toBe('dry_run');
      // The tenant's lock was given back; the same file again finishes the job.
      await importMappings(h.deps, h.tenant.id, file, 'tester');
      expect((await mappings.get(key(a!)))!.neteaseId).toBe(file[0]!.neteaseId);
      expect((await mappings.get(key(b!)))!.neteaseId).toBe(file[1]!.neteaseId);
      expect(await importMappings(h.deps, h.tenant.id, file, 'tester')).toEqual({ linked: 0, unchanged: 2, replaced: 0 });
    }
    // The swapped-back links hold: a run keeps both mailboxes and creates none.
    const mark = await h.mark();
    const after = await h.run({ mode: 'full', adopt: false });
    expect(after.run.status).toBe('success');
    expect(h.writeCalls(mark).filter((c) => c.path === 'createAccount')).toEqual([]);
  });

  it('a link import holds the tenant however long it takes: no run starts meanwhile, and an import waits for a running one', async () => {
    const h = await setup({ departments: 4, people: 8 });
    await h.run({ mode: 'full' });
    const people = activeWithEmail(h);
    const [a] = people;
    const file = await Promise.all(people.map(async (p) => ({ sourceId: p.id, type: 'person' as const, neteaseId: (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: p.id }))!.neteaseId })));
    const name = file[0]!.neteaseId;
    const getAccount = h.api.getAccount.bind(h.api);
    const runsDuringImport: unknown[] = [];
    const original = h.deps.netease;
    h.deps.netease = async (t) => {
      const api = await original(t);
      return Object.assign(Object.create(api) as NeteaseDirectory, {
        // Each NetEase read takes 4 minutes: the whole import outlasts the lock's 10-minute lease.
        getAccount: async (n: string) => {
          h.clock.advance(4 * 60_000);
          runsDuringImport.push(await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' }).catch((e: unknown) => e));
          return getAccount(n);
        },
      });
    };
    try {
      expect(await importMappings(h.deps, h.tenant.id, file, 'tester')).toMatchObject({ unchanged: file.length });
    } finally {
      h.deps.netease = original;
    }
    expect(file.length * 4).toBeGreaterThan(10);
    expect(runsDuringImport).toHaveLength(file.length);
    for (const r of runsDuringImport) expect(r).toBeInstanceOf(SyncRunInProgressError);
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
    h.source.editPerson(a!.id, (x) => void (x.displayName = '导入时'));
    const running = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    expect(running.run.status).toBe('applying');
    await expect(importMappings(h.deps, h.tenant.id, [{ sourceId: a!.id, type: 'person', neteaseId: name }], 'tester')).rejects.toBeInstanceOf(SyncRunInProgressError);
    await h.drain();
  });
});

/** An object with the client's methods bound, so a wrapper can override some of them. */
function bindAll(api: NeteaseDirectory): NeteaseDirectory {
  const out: Record<string, unknown> = { domain: api.domain };
  for (const k of ['createUnit', 'updateUnit', 'deleteUnit', 'getUnit', 'getUnitList', 'createAccount', 'getAccount', 'updateAccount', 'moveUnit', 'suspendAccount', 'recoverAccount', 'deleteAccountSim', 'getAllAccounts'] as const) {
    out[k] = (api[k] as (...a: unknown[]) => unknown).bind(api);
  }
  return out as unknown as NeteaseDirectory;
}

// Silence unused-type lint for fixtures kept for readability.
export type { Department };
