/**
 * When a run's watermarks move, and what happens when they cannot: the sync engine end to end
 * (startSyncRun -> the real sync worker -> the NetEase simulator) with memory stores, the
 * memory source, and the real EKP source over HTTP against the EKP simulator.
 */
import { describe, expect, it } from 'vitest';
import { startEkpSimulator, type RunningEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { createEkpClient } from '../../shared/adapters/ekp/ekp.client';
import { EkpDirectorySource } from '../../shared/adapters/ekp/ekp.directory-source';
import { decodeWatermark } from '../../shared/adapters/ekp/ekp.feed';
import { NeteaseApiError } from '../../shared/adapters/netease';
import { syncJobMessage } from '../../shared/contracts/sync-job';
import { StateStoreError } from '../../shared/ports/store-common';
import { applyBatch, getRunDetail, startSyncRun, type RunSummary } from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { OperationBusyError } from '../../shared/use-cases/sync/sync-errors';
import { generateOrg } from '../fixtures/org-generator';
import { driftCheck, type SyncHarness } from './sync-harness';
import { harnessesOnOneSimulator } from './sync-tenants';

const { setup, onStop } = harnessesOnOneSimulator({ simSeed: 17, orgSeed: 31, prefix: 'w', departments: 6, people: 30 });

const activeWithEmail = (h: SyncHarness) => h.source.allPeople().filter((p) => p.status === 'active' && p.email);

function bindAll(api: NeteaseDirectory): NeteaseDirectory {
  const out: Record<string, unknown> = { domain: api.domain };
  for (const k of ['createUnit', 'updateUnit', 'deleteUnit', 'getUnit', 'getUnitList', 'createAccount', 'getAccount', 'updateAccount', 'moveUnit', 'suspendAccount', 'recoverAccount', 'deleteAccountSim', 'getAllAccounts'] as const) {
    out[k] = (api[k] as (...a: unknown[]) => unknown).bind(api);
  }
  return out as unknown as NeteaseDirectory;
}

describe('EKP watermarks', () => {
  it('stores the watermark of an organisation whose rows all share one alterTime, frees the tenant, and the next run reads only what changed', async () => {
    const h = await setup();
    // Every row of the EKP organisation changed in the same millisecond (a bulk import): the
    // cursor remembers every id seen at it (ekp.feed.ts), far more than the 512 bytes the
    // store used to accept.
    const org = generateOrg({ seed: 5, departments: 8, people: 60, domain: h.tenant.netease.domain });
    const tiedAt = '2024-05-01 08:00:00.000';
    const elements = org.ekp.elements.map((e) => ({ ...e, alterTime: tiedAt }));
    const ekpTenant = { ...h.tenant, ekp: { ...h.tenant.ekp!, baseUrl: 'http://127.0.0.1:9' } };
    const ekp: RunningEkpSimulator = await startEkpSimulator({ host: '127.0.0.1', port: 0, tenants: [ekpTenant], stage: 'test', orgs: { [h.tenant.id]: elements } });
    onStop(() => ekp.stop());
    const client = await createEkpClient({ tenant: { ...ekpTenant, ekp: { ...ekpTenant.ekp, baseUrl: ekp.url } }, secrets: { getJson: async () => undefined, putJson: async () => undefined }, stage: 'test' });
    const source = new EkpDirectorySource({ client });
    h.deps.directory = async () => source;

    const first = await h.run({ mode: 'full' });
    expect(first.run.status).toBe('success');
    expect(first.run.error).toBeUndefined();
    // Before: `advance` threw STATE.INVALID_INPUT after the run was marked success, and the lock stayed held.
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
    const stored = await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person');
    expect(Buffer.byteLength(stored!.value)).toBeGreaterThan(512);
    const personIds = elements.filter((e) => e.type === 'person').map((e) => e.id).sort();
    expect(decodeWatermark(stored!.value, ['person'], 'person').person).toEqual({ t: tiedAt, ids: personIds });
    expect((first.run.summary as RunSummary).outcome?.watermarksAdvanced).toBe(true);

    // The next run is incremental: the tied rows are re-read and recognised, nothing is applied.
    const mark = await h.mark();
    const second = await h.run();
    expect(second.run.mode).toBe('incremental');
    expect(second.run.status).toBe('success');
    expect(h.writeCalls(mark)).toEqual([]);

    // A change made through EKP's side shows up in the following incremental run.
    const renamed = personIds[0]!;
    const res = await fetch(`${ekp.url}/__sim/people`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: renamed, name: '新名字' }) });
    expect(res.ok).toBe(true);
    const mark2 = await h.mark();
    const third = await h.run();
    expect(third.run.mode).toBe('incremental');
    expect(third.run.status).toBe('success');
    expect(h.writeCalls(mark2).map((c) => c.path)).toEqual(['updateAccount']);
    const account = (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: renamed }))!.neteaseId;
    expect(h.netease().accounts[account]?.nickname).toBe('新名字');
  });

  it('a watermark the store cannot save ends the run as a warning naming it, frees the tenant, and the next run re-reads from the old one', async () => {
    const h = await setup();
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const p = activeWithEmail(h)[0]!;
    h.source.editPerson(p.id, (x) => void (x.displayName = '改了名'));
    const advance = h.stores.watermarks.advance.bind(h.stores.watermarks);
    h.stores.watermarks.advance = async () => {
      throw new StateStoreError('STATE.UNAVAILABLE', 'the table is unavailable', { retryable: true });
    };
    let run;
    try {
      ({ run } = await h.run({ mode: 'incremental' }));
    } finally {
      h.stores.watermarks.advance = advance;
    }
    // The change applied; only the watermark is missing, and the run says so.
    expect(run.status).toBe('warning');
    expect(run.error?.code).toBe('SYNC.WATERMARK_NOT_SAVED');
    expect(run.error?.message).toContain('STATE.UNAVAILABLE');
    expect((run.summary as RunSummary).outcome).toMatchObject({ status: 'warning', watermarksAdvanced: false, failed: 0 });
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
    expect(await h.stores.watermarks.getAll(h.tenant.id, 'ekp')).toEqual(before);
    expect(await driftCheck(h)).toEqual([]);

    // The tenant is free at once; the re-read of the same change makes no NetEase call (content hash).
    const mark = await h.mark();
    const next = await h.run({ mode: 'incremental' });
    expect(next.run.status).toBe('success');
    expect(h.writeCalls(mark)).toEqual([]);
    expect(Number((await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value)).toBeGreaterThan(Number(before.person!.value));
  });
});

/** A sync whose NetEase refuses (non-retryably) to update `refusal.account` while `refusal.on`. */
async function setupRefusingUpdates(): Promise<{ h: SyncHarness; refusal: { on: boolean; account: string } }> {
  const refusal = { on: true, account: '' };
  const h = await setup({
    wrapApi: (api) => ({
      ...bindAll(api),
      async updateAccount(name, input) {
        if (refusal.on && name === refusal.account) throw new NeteaseApiError({ operation: 'account/updateAccount', kind: 'invalid', retryable: false, errorCode: 'PARAM.INVALID' });
        return api.updateAccount(name, input);
      },
    }),
  });
  return { h, refusal };
}

describe('watermarks of runs with failures', () => {
  it('an incremental run with a failed object keeps its watermarks; the next incremental run retries the object, and only it', async () => {
    const { h, refusal } = await setupRefusingUpdates();
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const [p, q] = activeWithEmail(h);
    refusal.account = (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: p!.id }))!.neteaseId;
    h.source.editPerson(p!.id, (x) => void (x.displayName = '失败的改名'));
    h.source.editPerson(q!.id, (x) => void (x.displayName = '成功的改名'));

    const failed = await h.run({ mode: 'incremental' });
    expect(failed.run.mode).toBe('incremental');
    expect(failed.run.status).toBe('warning');
    expect(failed.run.counts).toMatchObject({ failed: 1, updated: 1 });
    expect((failed.run.summary as RunSummary).outcome?.watermarksAdvanced).toBe(false);
    // Before: the watermarks moved past p's change, and the next incremental run never saw it again.
    expect(await h.stores.watermarks.getAll(h.tenant.id, 'ekp')).toEqual(before);
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();

    refusal.on = false;
    const mark = await h.mark();
    const retried = await h.run({ mode: 'incremental' });
    expect(retried.run.mode).toBe('incremental');
    expect(retried.run.status).toBe('success');
    // p is retried; q, re-read in the same window, is unchanged since it applied: no call.
    expect(h.writeCalls(mark)).toEqual([{ path: 'updateAccount', outcome: 'ok' }]);
    expect(h.netease().accounts[refusal.account]?.nickname).toBe('失败的改名');
    expect(Number((await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value)).toBeGreaterThan(Number(before.person!.value));
    expect(await driftCheck(h)).toEqual([]);
  });

  it('a full run with a failed object still advances its watermarks (it read the whole source; the next full run plans the object again)', async () => {
    const { h, refusal } = await setupRefusingUpdates();
    await h.run({ mode: 'full' });
    const before = await h.stores.watermarks.getAll(h.tenant.id, 'ekp');
    const p = activeWithEmail(h)[0]!;
    refusal.account = (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: p.id }))!.neteaseId;
    h.source.editPerson(p.id, (x) => void (x.displayName = '失败的改名'));
    const failed = await h.run({ mode: 'full' });
    expect(failed.run.status).toBe('warning');
    expect((failed.run.summary as RunSummary).outcome?.watermarksAdvanced).toBe(true);
    expect(Number((await h.stores.watermarks.get(h.tenant.id, 'ekp', 'person'))!.value)).toBeGreaterThan(Number(before.person!.value));
    refusal.on = false;
    const next = await h.run({ mode: 'full' });
    expect(next.run.status).toBe('success');
    expect(h.netease().accounts[refusal.account]?.nickname).toBe('失败的改名');
  });
});

describe('the last delivery of a batch', () => {
  /** An incremental run of one batch whose only operation another delivery holds (lease 600 s). */
  async function heldBatch(h: SyncHarness) {
    const p = activeWithEmail(h)[0]!;
    await h.run({ mode: 'full' });
    h.source.editPerson(p.id, (x) => void (x.displayName = '并发'));
    const started = await startSyncRun(h.deps, { tenantId: h.tenant.id, trigger: 'manual', mode: 'incremental' });
    expect(started.run.totalBatches).toBe(1);
    h.queue.ready.splice(0); // the test delivers by hand
    const batch = (await h.stores.plans.getBatch(h.tenant.id, started.run.runId, 0)) as { operations: Array<{ id: string }> };
    const held = await h.stores.once.begin(h.tenant.id, 'op', batch.operations[0]!.id, { leaseSeconds: 600 });
    expect(held.status).toBe('acquired');
    return { runId: started.run.runId, msg: syncJobMessage(h.tenant.id, started.run.runId, 0), p };
  }

  it('defers an operation whose holder\'s lease is live (a delivery killed mid-apply): the batch comes back after the lease and is applied, not failed', async () => {
    const h = await setup();
    const { runId, msg, p } = await heldBatch(h);
    await expect(applyBatch(h.deps, msg, { receiveCount: 4, maxReceiveCount: 5 })).rejects.toBeInstanceOf(OperationBusyError);
    const last = await applyBatch(h.deps, msg, { receiveCount: 5, maxReceiveCount: 5 });
    expect(last.finalized).toBeUndefined();
    expect(last.deferredSeconds).toBeGreaterThanOrEqual(590);
    expect(last.deferredSeconds).toBeLessThanOrEqual(602);
    expect(h.queue.ready.map((m) => JSON.parse(m.body))).toEqual([{ ...msg, deferrals: 1 }]);
    expect((await h.stores.runs.get(h.tenant.id, runId))!.status).toBe('applying');
    const copy = JSON.parse(h.queue.ready.splice(0)[0]!.body) as typeof msg;

    h.clock.advance(601_000); // the dead holder's lease has run out
    const applied = await applyBatch(h.deps, copy, { receiveCount: 1, maxReceiveCount: 5 });
    expect(applied).toMatchObject({ finalized: true, counts: { updated: 1 } });
    const run = (await h.stores.runs.get(h.tenant.id, runId))!;
    expect(run.status).toBe('success');
    expect(run.counts.failed).toBe(0);
    const mapping = await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'person', sourceId: p.id });
    expect(h.netease().accounts[mapping!.neteaseId]?.nickname).toBe('并发');
  });

  it('after three deferrals it records the operation as failed, so the batch completes; earlier deliveries retry it', async () => {
    const h = await setup();
    const { runId, msg } = await heldBatch(h);
    const thrice = { ...msg, deferrals: 3 };
    await expect(applyBatch(h.deps, thrice, { receiveCount: 4, maxReceiveCount: 5 })).rejects.toBeInstanceOf(OperationBusyError);
    const last = await applyBatch(h.deps, thrice, { receiveCount: 5, maxReceiveCount: 5 });
    expect(last).toMatchObject({ counts: { failed: 1 }, finalized: true });
    expect(h.queue.ready).toEqual([]);
    const run = (await h.stores.runs.get(h.tenant.id, runId))!;
    expect(run.status).toBe('warning');
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    expect(detail.errors.map((e) => e.errorCode)).toEqual(['SYNC.OPERATION_BUSY']);
    expect(await h.stores.locks.get(h.tenant.id, 'sync')).toBeUndefined();
  });
});
