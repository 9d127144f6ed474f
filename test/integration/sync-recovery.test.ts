/**
 * Dead runs recover by themselves (recover-runs.ts), in process: the real worker handler
 * through the SQS stand-in, the real NetEase client over HTTP to the simulator, memory
 * stores. "Dying" here is what a `kill -9` leaves behind: messages lost (fauxqs keeps them
 * in memory), a run record still planning/applying, the tenant's lock held for its lease.
 * The child-process crash tests are in sync-crash.test.ts.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { newRunId } from '../../shared/ports/run-store';
import { createMemoryLogger } from '../../shared/logging/logger';
import {
  abandonRun,
  findStuckRuns,
  getRunDetail,
  recoverStuckRuns,
  requestSyncRun,
  runTenantSchedule,
  scheduleSyncRuns,
  startSyncRun,
  SYNC_LOCK,
  SyncRunInProgressError,
} from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { performOperation } from '../../shared/use-cases/sync/apply-operation';
import { generateOrg } from '../fixtures/org-generator';
import { createSyncHarness, driftCheck, MemoryDirectorySource, type HarnessOptions, type SyncHarness } from './sync-harness';

const STUCK_MS = 60_000;
let sim: RunningNeteaseSimulator;
let counter = 0;

beforeAll(async () => {
  sim = await startNeteaseSimulator({ seed: 5 });
});
afterAll(async () => {
  await sim.stop();
});

async function setup(opts: HarnessOptions & { people?: number } = {}): Promise<SyncHarness> {
  const tenantId = `rec${++counter}-acme`;
  const domain = `${tenantId}.example.com`;
  const org = generateOrg({ seed: 40 + counter, departments: 6, people: opts.people ?? 60, domain });
  return createSyncHarness({ sim, tenantId, domain, source: new MemoryDirectorySource(org.departments, org.people), ...opts, options: { batchSize: 5, stuckAfterMs: STUCK_MS, ...opts.options } });
}

/** A worker that "dies" after `alive` deliveries: later records are acknowledged unprocessed (lost, like fauxqs's memory on kill -9). */
function dyingWorker(h: SyncHarness, alive: number) {
  let delivered = 0;
  return async (event: SQSEvent, context: Context) => {
    if (delivered >= alive) return { batchItemFailures: [] };
    delivered += event.Records.length;
    return h.worker(event, context);
  };
}

const createCalls = (h: SyncHarness, since: number) => h.writeCalls(since).filter((c) => c.path === 'createAccount');

describe('a run that died while applying', () => {
  it('is reported stuck after the threshold, taken over by the schedule, and finishes with no drift and no duplicate', async () => {
    const h = await setup();
    const t0 = await h.mark();
    const { run } = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    await h.queue.drain(dyingWorker(h, 12));
    const dead = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    expect(dead.status).toBe('applying');
    expect(dead.completedBatches).toBeGreaterThan(0);
    expect(dead.completedBatches).toBeLessThan(dead.totalBatches);
    expect(dead.lastBatch).toMatch(/^b\d+$/);

    // Before the threshold: in progress, not stuck; the 409 says where it stands and when the lock frees.
    await expect(requestSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' })).rejects.toThrow(/applying \d+\/\d+ batches \(phase \d+ of \d+: .*last progress .*the lock frees at/);
    expect(await findStuckRuns(h.deps, [h.tenant.id])).toEqual([]);
    const scheduledEarly = await scheduleSyncRuns(h.deps);
    expect(scheduledEarly[0]?.skipped).toMatch(new RegExp(`a run is in progress: ${run.runId} \\(applying`));

    h.clock.advance(STUCK_MS + 1);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    expect(detail.progress).toMatchObject({ stuck: true, status: 'applying', completedBatches: dead.completedBatches });
    expect(await findStuckRuns(h.deps, [h.tenant.id])).toEqual([expect.objectContaining({ runId: run.runId })]);

    // The schedule takes it over (re-sends the phase in flight) and skips the tenant, saying why.
    const logger = createMemoryLogger('info');
    const scheduled = await scheduleSyncRuns({ ...h.deps, logger });
    expect(scheduled[0]?.skipped).toMatch(/was stuck and has been taken over \(resumed\)/);
    expect(logger.lines.map((r) => r.msg ?? r.message)).toEqual(expect.arrayContaining(['run.stuck', 'run.taken_over', 'scheduled sync skipped']));
    await h.drain();

    const ended = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    expect(ended.status).toBe('success');
    expect(ended.recovery).toMatchObject({ takeovers: 1, action: 'resent' });
    expect(await driftCheck(h)).toEqual([]);
    const creates = createCalls(h, t0);
    expect(creates.filter((c) => c.outcome !== 'ok')).toEqual([]);
    expect(creates.length).toBe(Object.keys(h.netease().accounts).length); // one create per mailbox, none repeated
    expect(await h.stores.locks.get(h.tenant.id, SYNC_LOCK)).toBeUndefined();
  });

  it.each([
    ['the every-tenant schedule', (h: Awaited<ReturnType<typeof setup>>) => scheduleSyncRuns(h.deps).then((r) => r[0])],
    ["the tenant's own schedule", (h: Awaited<ReturnType<typeof setup>>) => runTenantSchedule(h.deps, { tenantId: h.tenant.id, kind: 'incremental' })],
  ])('is finalized by %s when every batch was counted but the run never ended', async (_label, schedule) => {
    const h = await setup({ people: 12 });
    const { run } = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    // Count every batch without finalizing: what a worker killed right after its last completeBatch leaves.
    const r = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    await h.drain();
    const done = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    expect(done.status).toBe('success');
    // Rebuild that state on a fresh run record: applying, nothing pending, lock held.
    const ghost = newRunId(h.clock.now());
    await h.stores.runs.create({ runId: ghost, tenantId: h.tenant.id, source: 'ekp', trigger: 'manual', mode: 'full', dryRun: false, startedAt: h.clock.now() });
    await h.stores.runs.transition(h.tenant.id, ghost, 'planning', 'applying', { totalBatches: 1, summary: r.summary });
    await h.stores.runs.completeBatch(h.tenant.id, ghost, 'b0');
    await h.stores.locks.acquire(h.tenant.id, SYNC_LOCK, ghost, 30 * 60_000);
    h.clock.advance(STUCK_MS + 1);
    const scheduled = await schedule(h);
    expect(scheduled?.skipped).toMatch(/taken over \(finalized\)/);
    expect((await h.stores.runs.get(h.tenant.id, ghost))?.status).toBe('success');
    expect(await h.stores.locks.get(h.tenant.id, SYNC_LOCK)).toBeUndefined();
  });
});

describe('a live run whose batches take longer than the stuck threshold', () => {
  it('is not taken over while its operations keep finishing (progress is stamped within a batch)', async () => {
    // Each NetEase call takes 0.4 x the threshold, so one batch of 5 operations takes 2 x the
    // threshold and no batch completes inside it: what a loaded machine did to the crash test's
    // fresh run, whose live phase was re-sent by a takeover every few seconds.
    const stuckAfterMs = 10_000;
    let slow = false;
    let h!: SyncHarness;
    const checks: string[] = [];
    h = await setup({
      people: 20,
      options: { stuckAfterMs, opConcurrency: 1, opLeaseSeconds: 300 },
      wrapApi: (api) =>
        new Proxy(api, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            if (typeof v !== 'function') return v;
            return async (...args: unknown[]) => {
              if (!slow) return (v as (...a: unknown[]) => unknown).apply(target, args);
              h.clock.advance(stuckAfterMs * 0.4);
              const out = await (v as (...a: unknown[]) => unknown).apply(target, args);
              // The schedule's check, while this batch is still being applied.
              checks.push((await recoverStuckRuns(h.deps, h.tenant.id)).action);
              return out;
            };
          },
        }),
    });
    const { run } = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    slow = true;
    await h.drain({ concurrency: 1, batchSize: 1 });

    const ended = (await h.stores.runs.get(h.tenant.id, run.runId))!;
    expect(checks.length).toBeGreaterThan(20);
    expect(checks.filter((a) => a !== 'none')).toEqual([]);
    expect(ended.recovery).toBeUndefined();
    expect(ended).toMatchObject({ status: 'success', completedBatches: ended.totalBatches });
    expect(ended.counts.failed).toBe(0);
    expect(await driftCheck(h)).toEqual([]);
  });
});

describe('a run that died while planning', () => {
  it('is abandoned when a request meets it, the tenant freed, and a fresh full plan queued', async () => {
    const h = await setup({ people: 10 });
    const runId = newRunId(h.clock.now());
    await h.stores.locks.acquire(h.tenant.id, SYNC_LOCK, runId, 30 * 60_000);
    await h.stores.runs.create({ runId, tenantId: h.tenant.id, source: 'ekp', trigger: 'schedule', mode: 'full', dryRun: false, startedAt: h.clock.now() });
    await expect(requestSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' })).rejects.toBeInstanceOf(SyncRunInProgressError);
    expect(h.queue.planned).toEqual([]);

    h.clock.advance(STUCK_MS + 1);
    const accepted = await requestSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual' });
    expect(accepted.status).toBe('queued');
    const abandoned = (await h.stores.runs.get(h.tenant.id, runId))!;
    expect(abandoned.status).toBe('failed');
    expect(abandoned.error).toMatchObject({ code: 'SYNC.RUN_ABANDONED', message: expect.stringMatching(/abandoned by recovery: no progress for 60 s: it stopped while planning/) });
    // The recovery's fresh full plan, then this request.
    expect(h.queue.planned).toEqual([expect.objectContaining({ mode: 'full', trigger: 'schedule' }), expect.objectContaining({ requestId: accepted.requestId })]);
    expect(await h.stores.locks.get(h.tenant.id, SYNC_LOCK)).toBeUndefined();
  });

  it('is not taken for dead while the planner stamps progress between its stages', async () => {
    const h = await setup({ people: 10 });
    let release!: () => void;
    const slowSource = h.source;
    const gate = new Promise<void>((r) => (release = r));
    const deps = {
      ...h.deps,
      directory: async () => ({
        kind: 'ekp' as const,
        fullSnapshot: async () => {
          await gate;
          return slowSource.fullSnapshot();
        },
      }),
      netease: async (): Promise<NeteaseDirectory> => {
        h.clock.advance(STUCK_MS - 1000); // a slow NetEase read, within the threshold since the last stage
        return h.deps.netease(h.tenant);
      },
    };
    const started = startSyncRun(deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'full' });
    await new Promise((r) => setTimeout(r, 20));
    h.clock.advance(STUCK_MS - 1000);
    release();
    const { run } = await started;
    expect(run.status).toBe('applying');
    expect((await scheduleSyncRuns(h.deps))[0]?.skipped).toMatch(/a run is in progress/);
    expect((await h.stores.runs.get(h.tenant.id, run.runId))?.status).toBe('applying');
    await h.drain();
  });
});

describe('sync abandon (operator)', () => {
  it('ends a stuck run and frees the tenant only when that run holds it', async () => {
    const h = await setup({ people: 10 });
    const mine = newRunId(h.clock.now(), 'aaaa0001');
    await h.stores.runs.create({ runId: mine, tenantId: h.tenant.id, source: 'ekp', trigger: 'manual', mode: 'full', dryRun: false, startedAt: h.clock.now() });
    await h.stores.locks.acquire(h.tenant.id, SYNC_LOCK, mine, 30 * 60_000);
    const res = await abandonRun(h.deps, { tenantId: h.tenant.id, runId: mine, by: 'ops@example.com' });
    expect(res).toMatchObject({ released: true, run: { status: 'failed', error: { code: 'SYNC.RUN_ABANDONED', message: expect.stringContaining('operator ops@example.com') } } });
    expect(await h.stores.locks.get(h.tenant.id, SYNC_LOCK)).toBeUndefined();

    // A zombie run that does not hold the tenant: ended, but the holder's lock is untouched.
    const zombie = newRunId(h.clock.now(), 'aaaa0002');
    const holder = newRunId(h.clock.now(), 'aaaa0003');
    await h.stores.runs.create({ runId: zombie, tenantId: h.tenant.id, source: 'ekp', trigger: 'manual', mode: 'full', dryRun: false, startedAt: h.clock.now() });
    await h.stores.locks.acquire(h.tenant.id, SYNC_LOCK, holder, 30 * 60_000);
    const z = await abandonRun(h.deps, { tenantId: h.tenant.id, runId: zombie, by: 'ops' });
    expect(z).toMatchObject({ released: false, heldBy: holder });
    expect((await h.stores.locks.get(h.tenant.id, SYNC_LOCK))?.owner).toBe(holder);
    // Ended runs are refused.
    await expect(abandonRun(h.deps, { tenantId: h.tenant.id, runId: zombie, by: 'ops' })).rejects.toMatchObject({ code: 'SYNC.RUN_STATE' });
  });
});

describe('a mailbox created by a run that died before saving its mapping', () => {
  it('is linked by the next incremental run instead of failing with NETEASE.DUPLICATE', async () => {
    let die = false;
    const h = await setup({
      people: 10,
      wrapApi: (api) =>
        Object.assign(Object.create(api) as NeteaseDirectory, {
          createAccount: async (...args: Parameters<NeteaseDirectory['createAccount']>) => {
            const r = await api.createAccount(...args);
            if (die) throw new Error('process killed after the create'); // the mapping is never written
            return r;
          },
        }),
    });
    expect((await h.run({ mode: 'full' })).run.status).toBe('success');
    const hire = { ...h.source.allPeople().find((p) => p.status === 'active' && p.email)!, id: 'newhire-1', email: 'newhire1@example.com', displayName: '新同事' };
    h.source.putPerson(hire);
    die = true;
    expect((await h.run({ mode: 'incremental' })).run.status).toBe('warning'); // the dying run: create sent, mapping lost
    expect(await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: 'newhire-1' })).toBeUndefined();
    expect(h.netease().accounts.newhire1).toBeDefined();

    die = false;
    const next = await h.run({ mode: 'incremental' });
    expect(next.run.status).toBe('success');
    expect(next.run.counts.failed).toBe(0);
    expect(await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: 'newhire-1' })).toMatchObject({ neteaseId: 'newhire1' });
    expect(await driftCheck(h)).toEqual([]);
  });

  it('is not taken when a mapping of another person holds that mailbox', async () => {
    const h = await setup({ people: 4 });
    await h.api.createAccount({ accountName: 'orphan1', password: 'Aa1!aaaaaaaaaa', nickname: 'Orphan One', passChangeRequired: 1 });
    const op = { id: 'op-1', kind: 'account.create', sourceId: 'p-1', phase: 0, dependsOn: [], accountName: 'orphan1', unit: { kind: 'default' }, profile: { nickname: 'Orphan One' } } as const;
    const ctx = (claimed: boolean) => ({ api: h.api, repeated: false, resolveNewUnit: async () => undefined, claimedByOther: async () => claimed });
    await expect(performOperation(op as never, ctx(true))).rejects.toMatchObject({ code: expect.stringMatching(/DUPLICATE|EXIST/) });
    await expect(performOperation(op as never, ctx(false))).resolves.toMatchObject({ neteaseId: 'orphan1', orphan: true });
    // Not what we would create (another nickname): never taken.
    await expect(performOperation({ ...op, profile: { nickname: 'Someone Else' } } as never, ctx(false))).rejects.toMatchObject({ code: expect.stringMatching(/DUPLICATE|EXIST/) });
  });
});

describe('bad directory data in a run', () => {
  it('quarantines a self-parent department: the rest applies, the run ends warning and lists every problem at once', async () => {
    const h = await setup({ people: 20 });
    const [d1, d2] = h.source.allDepartments().filter((d) => d.parentId !== undefined);
    h.source.editDepartment(d1!.id, (d) => (d.parentId = d.id));
    h.source.editDepartment(d2!.id, (d) => (d.name = `Bad\u0000Name`));
    const victim = h.source.allPeople().find((p) => p.status === 'active' && p.email)!;
    h.source.editPerson(victim.id, (p) => (p.mobile = 'abc'));
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('warning');
    expect(run.counts.failed).toBe(0);
    expect(run.counts.created).toBeGreaterThan(0);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    const codes = new Set(detail.dataNotes?.map((n) => `${n.code} ${n.sourceId}`));
    expect(codes.has(`departmentQuarantined ${d1!.id}`)).toBe(true);
    expect(codes.has(`nameCleaned ${d2!.id}`)).toBe(true);
    expect([...codes].some((c) => c === `mobileDropped ${victim.id}`) || detail.dataNotes!.some((n) => n.code === 'departmentQuarantined' && n.sourceId === victim.id)).toBe(true);
    expect(Object.values(h.netease().units).some((u) => u.unit_name.includes('\u0000'))).toBe(false);
  });
});

