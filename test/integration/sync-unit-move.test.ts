/**
 * Department moves end to end: a department moved in the source reaches NetEase as a move
 * of the SAME unit (no delete, no create, its people untouched) when the tenant's API has
 * the open platform's unit/moveUnit; without it, the move is reported as unsupported and
 * nothing is deleted. The real sync engine (planner, SQS stand-in, real worker handler),
 * the real legacy and open-platform clients over HTTP, the NetEase simulator.
 */
import { describe, expect, it } from 'vitest';
import { NeteaseOpenApiError } from '../../shared/adapters/netease/netease-open.client';
import { NeteaseApiError } from '../../shared/adapters/netease';
import type { Department, Person } from '../../shared/domain/directory';
import { getRunDetail, handleSyncRequest } from '../../shared/use-cases/sync';
import type { SyncRequestMessage } from '../../shared/contracts/sync-request';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { createOpenPlatformHarness, dept as d, driftCheck, fileSimulator, person as p, type SyncHarness } from './sync-harness';

const shared = fileSimulator(3);
let counter = 0;

/**
 * HQ at the top; Sales and R&D under it; East and West under Sales; Platform under R&D.
 * Two people in East, one in West, one in Platform, one in Sales.
 */
function org(): { departments: Department[]; people: Person[] } {
  return {
    departments: [d('hq', '总部'), d('sales', '销售部', 'hq'), d('rnd', '研发部', 'hq'), d('east', '华东区', 'sales'), d('west', '华西区', 'sales'), d('platform', '平台组', 'rnd')],
    people: [p('p1', 'east'), p('p2', 'east'), p('p3', 'west'), p('p4', 'platform'), p('p5', 'sales')],
  };
}

/**
 * A tenant on the shared simulator; with `openPlatform`, its API gets reparentUnit from an
 * open-platform client the way shared/wiring/tenant-clients.ts composes it.
 */
async function setup(opts: { openPlatform: boolean; allowedIps?: string[]; afterMove?: () => void }): Promise<SyncHarness> {
  const h = await createOpenPlatformHarness({
    sim: shared.sim,
    tenantId: `m${++counter}-acme`,
    org: org(),
    allowedIps: opts.allowedIps,
    wrapApi: (api, mover) => {
      if (!opts.openPlatform) return api;
      const withMoves = Object.create(api) as NeteaseDirectory;
      withMoves.reparentUnit = async (unitId, parentUnitId, expect) => {
        await mover.moveUnit(unitId, parentUnitId, expect);
        opts.afterMove?.();
      };
      return withMoves;
    },
  });
  shared.keep(h);
  return h;
}

async function unitOf(h: SyncHarness, departmentId: string): Promise<string> {
  const m = await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'department', sourceId: departmentId });
  if (!m) throw new Error(`no unit mapping for ${departmentId}`);
  return m.neteaseId;
}

/** NetEase matches the source, and nothing is left to do: the next full run makes no call that changes anything. */
async function expectConverged(h: SyncHarness): Promise<void> {
  expect(await driftCheck(h)).toEqual([]);
  const quiet = await h.mark();
  expect((await h.run({ mode: 'full' })).run.status).toBe('success');
  expect(writes(h, quiet)).toEqual([]);
}

/** NetEase calls that change something since `since`, by full path (the open platform's moveUnit vs account/moveUnit). */
function writes(h: SyncHarness, since: number): Array<{ path: string; outcome: string }> {
  return shared.sim
    .calls({ domain: h.tenant.netease.domain })
    .filter((c) => c.at >= since && /\/(createUnit|updateUnit|deleteUnit|updateUnitRank|createAccount|updateAccount|updatePassword|moveUnit|suspendAccount|recoverAccount|deleteAccountSim)$/.test(c.path))
    .map((c) => ({ path: c.path.replace(/^.*\/(qiyeservice\/api|api\/open)\//, ''), outcome: c.outcome }));
}

describe('with the open platform configured', () => {
  it('a department moved in the source ends up under its new parent: same unit id, no delete or create, its people untouched', async () => {
    const h = await setup({ openPlatform: true });
    expect((await h.run({ mode: 'full' })).run.status).toBe('success');
    const east = await unitOf(h, 'east');
    const rnd = await unitOf(h, 'rnd');
    const before = h.netease();
    expect(before.units[east]?.parent_id).toBe(await unitOf(h, 'sales'));

    h.source.editDepartment('east', (d) => void (d.parentId = 'rnd'));
    const since = await h.mark();
    const { run } = await h.run({ mode: 'incremental' });

    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ moved: 1, created: 0, deleted: 0, failed: 0 });
    expect(writes(h, since)).toEqual([{ path: 'unit/moveUnit', outcome: 'ok' }]);
    const after = h.netease();
    // The same unit, now under R&D, seen through the legacy API too.
    expect(after.units[east]).toMatchObject({ unit_id: east, unit_name: '华东区', parent_id: rnd });
    expect((await h.api.getUnit(east)).parentId).toBe(rnd);
    expect(Object.keys(after.units).sort()).toEqual(Object.keys(before.units).sort());
    // Its people: the same mailboxes, in the same unit, unchanged.
    expect(after.accounts).toEqual(before.accounts);
    expect(after.accounts.p1?.unit_id).toBe(east);
    await expectConverged(h);
  });

  it('a parent and its child swap places, and a department moves to the top level, in one run', async () => {
    const h = await setup({ openPlatform: true });
    await h.run({ mode: 'full' });
    const ids = { sales: await unitOf(h, 'sales'), east: await unitOf(h, 'east'), platform: await unitOf(h, 'platform') };
    // East leaves Sales for HQ, then Sales goes under East: an order that must not form a cycle.
    h.source.editDepartment('east', (d) => void (d.parentId = 'hq'));
    h.source.editDepartment('sales', (d) => void (d.parentId = 'east'));
    h.source.editDepartment('platform', (d) => void delete d.parentId);
    const since = await h.mark();
    const { run } = await h.run({ mode: 'incremental' });

    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ moved: 3, created: 0, deleted: 0, failed: 0 });
    expect(writes(h, since).map((w) => w.path)).toEqual(['unit/moveUnit', 'unit/moveUnit', 'unit/moveUnit']);
    const units = h.netease().units;
    expect(units[ids.sales]?.parent_id).toBe(ids.east);
    expect(units[ids.east]?.parent_id).toBe(await unitOf(h, 'hq'));
    expect(units[ids.platform]?.parent_id).toBeUndefined();
    expect(await driftCheck(h)).toEqual([]);
  });

  it('every batch delivered twice still moves the unit with one call', async () => {
    const h = await setup({ openPlatform: true });
    await h.run({ mode: 'full' });
    h.source.editDepartment('west', (d) => void (d.parentId = 'hq'));
    const since = await h.mark();
    const { run } = await h.run({ mode: 'incremental' }, { duplicateRate: 1 });
    expect(run.status).toBe('success');
    expect(writes(h, since)).toEqual([{ path: 'unit/moveUnit', outcome: 'ok' }]);
    expect(await driftCheck(h)).toEqual([]);
  });

  it('a move whose answer was lost and whose retry was refused is recognised as done, not failed', async () => {
    // The first attempt applied but its answer never came; the client's retry was refused.
    const h = await setup({
      openPlatform: true,
      afterMove: () => {
        throw new NeteaseOpenApiError({ operation: 'unit/moveUnit', kind: 'invalid', retryable: false, openCode: -3, marker: 'UNIT.PARENT_INVALID', afterRetry: true });
      },
    });
    await h.run({ mode: 'full' });
    h.source.editDepartment('platform', (d) => void (d.parentId = 'sales'));
    const { run } = await h.run({ mode: 'incremental' });
    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ moved: 1, failed: 0 });
    expect(h.netease().units[await unitOf(h, 'platform')]?.parent_id).toBe(await unitOf(h, 'sales'));
    const results = (await h.stores.runs.listResults(h.tenant.id, run.runId)).items.filter((r) => r.sourceId === 'platform');
    expect(results).toEqual([expect.objectContaining({ outcome: 'applied', message: 'already in place' })]);
    expect(await driftCheck(h)).toEqual([]);
  });

  it('an open platform that refuses our IP fails the move with what to fix; nothing is deleted or created', async () => {
    const h = await setup({ openPlatform: true, allowedIps: ['10.1.2.3'] });
    await h.run({ mode: 'full' });
    const east = await unitOf(h, 'east');
    const sales = await unitOf(h, 'sales');
    h.source.editDepartment('east', (d) => void (d.parentId = 'rnd'));
    const since = await h.mark();
    const { run } = await h.run({ mode: 'incremental' });

    expect(run.status).toBe('warning');
    expect(writes(h, since)).toEqual([]);
    expect(h.netease().units[east]?.parent_id).toBe(sales);
    const detail = await getRunDetail(h.deps, h.tenant.id, run.runId);
    expect(detail.errors).toEqual([expect.objectContaining({ sourceId: 'east', operation: 'unit.move', outcome: 'failed', errorCode: 'NETEASE.AUTH_FAILED' })]);
    expect(JSON.stringify(detail.errors)).toMatch(/IP whitelist/);
  });
});

describe('without the open platform (legacy API: the unit is re-created under its new parent)', () => {
  /** Every mailbox sits in an existing unit (or the default unit): nobody is ever outside a unit. */
  function everyoneInAUnit(h: SyncHarness): string[] {
    const st = h.netease();
    return Object.values(st.accounts)
      .filter((a) => a.unit_id !== `${st.domainId}_default` && !st.units[a.unit_id])
      .map((a) => `${a.account_name} is in missing unit ${a.unit_id}`);
  }

  it('a department with people and sub-units moved in the source ends under its new parent with 0 misplaced accounts', async () => {
    const h = await setup({ openPlatform: false });
    await h.run({ mode: 'full' });
    const before = h.netease();
    // Sales (p5, with East: p1 p2, and West: p3) moves under R&D.
    h.source.editDepartment('sales', (d) => void (d.parentId = 'rnd'));
    const since = await h.mark();
    const { run, planText } = await h.run({ mode: 'full' });

    expect(run.status).toBe('success');
    const w = writes(h, since).map((x) => x.path);
    expect(w.filter((x) => x === 'unit/createUnit')).toHaveLength(3);
    expect(w.filter((x) => x === 'unit/deleteUnit')).toHaveLength(3);
    expect(w.filter((x) => x === 'account/moveUnit')).toHaveLength(4);
    expect(w.some((x) => /createAccount|deleteAccountSim|suspendAccount/.test(x))).toBe(false);
    expect(planText).toMatch(/unitRecreatedForMove|link/);
    const after = h.netease();
    expect(after.units[await unitOf(h, 'sales')]?.parent_id).toBe(await unitOf(h, 'rnd'));
    expect(after.units[await unitOf(h, 'east')]?.parent_id).toBe(await unitOf(h, 'sales'));
    // The same mailboxes (nothing re-created), now in the new units.
    expect(Object.keys(after.accounts).sort()).toEqual(Object.keys(before.accounts).sort());
    for (const a of Object.values(after.accounts)) expect(a.account_openid).toBe(before.accounts[a.account_name.toLowerCase()]!.account_openid);
    expect(everyoneInAUnit(h)).toEqual([]);
    await expectConverged(h);
  });

  it('an incremental run starts the move, names what is left and queues the full run that finishes it as it ends', async () => {
    const h = await setup({ openPlatform: false });
    await h.run({ mode: 'full' });
    h.source.editDepartment('sales', (d) => void (d.parentId = 'rnd'));
    h.queue.planned.splice(0);
    // The change feed lists Sales only, not the people of East and West who must follow.
    const first = await h.run({ mode: 'incremental' });
    expect(first.run.status).toBe('warning');
    const summary = first.run.summary as { unresolved?: { items: Array<{ sourceId: string }> } };
    expect(summary.unresolved?.items.map((i) => i.sourceId).sort()).toEqual(['east', 'sales', 'west']);
    expect(everyoneInAUnit(h)).toEqual([]);
    // Sent when the run released the tenant: a full run, not a wait for the schedule.
    expect(h.queue.planned).toEqual([expect.objectContaining({ requestId: `move-${first.run.runId}`, mode: 'full', tenantId: h.tenant.id })]);
    const follow = await handleSyncRequest(h.deps, h.queue.planned[0] as SyncRequestMessage);
    expect(follow.status).toBe('started');
    await h.drain();
    const second = (await h.stores.runs.get(h.tenant.id, (follow as { runId: string }).runId))!;
    expect(second.mode).toBe('full');
    expect(second.status).toBe('success');
    expect(await driftCheck(h)).toEqual([]);
    // Without a move pending, a run sends no such request.
    h.queue.planned.splice(0);
    await h.run({ mode: 'incremental' });
    expect(h.queue.planned).toEqual([]);
  });

  it('a move interrupted between its steps is finished by the next run; no account is ever outside a unit', async () => {
    // The first run of the move dies after its new units exist: every account move fails
    // (as if the process had stopped), so the old units cannot be deleted.
    let failMoves = false;
    const h = await setup({ openPlatform: false });
    const real = h.deps.netease;
    h.deps.netease = async (t) => {
      const api = await real(t);
      const wrapped = Object.create(api) as NeteaseDirectory;
      wrapped.moveUnit = async (name, unitId) => {
        if (failMoves) throw new NeteaseApiError({ operation: 'account/moveUnit', kind: 'invalid', retryable: false, errorCode: 'SIM.CRASH' });
        return api.moveUnit(name, unitId);
      };
      return wrapped;
    };
    await h.run({ mode: 'full' });
    h.source.editDepartment('east', (d) => void (d.parentId = 'rnd'));
    failMoves = true;
    const first = await h.run({ mode: 'incremental' });
    expect(first.run.status).toBe('warning');
    expect(everyoneInAUnit(h)).toEqual([]);
    // Half done: the new East unit exists under R&D, the old one still holds p1 and p2.
    const mid = h.netease();
    expect(Object.values(mid.units).filter((u) => u.unit_name.startsWith('华东区'))).toHaveLength(2);

    failMoves = false;
    const second = await h.run({ mode: 'incremental' });
    // Forced full: a change feed would not list the people left to move.
    expect(second.run.mode).toBe('full');
    expect(second.run.status).toBe('success');
    expect(everyoneInAUnit(h)).toEqual([]);
    expect(Object.values(h.netease().units).filter((u) => u.unit_name.startsWith('华东区'))).toHaveLength(1);
    expect(await driftCheck(h)).toEqual([]);
  });

  it('a move whose old unit cannot be emptied (a mailbox the bridge does not manage) ends warning and names the department, every run until fixed', async () => {
    const h = await setup({ openPlatform: false });
    await h.run({ mode: 'full' });
    h.sim.seed(h.tenant.netease.domain, { accounts: [{ account_name: 'outsider', nickname: 'Outsider', unit_name: '华西区' }] });
    h.source.editDepartment('west', (d) => void (d.parentId = 'rnd'));
    for (let i = 0; i < 2; i++) {
      const { run } = await h.run({ mode: 'full' });
      expect(run.status).toBe('warning');
      const summary = run.summary as { unresolved?: { items: Array<{ sourceId: string; why: string }> } };
      expect(summary.unresolved?.items).toEqual([expect.objectContaining({ sourceId: 'west', why: expect.stringMatching(/still holds/) })]);
      expect(everyoneInAUnit(h)).toEqual([]);
    }
    // p3 is already in the new West unit under R&D.
    expect(h.netease().accounts.p3?.unit_id).toBe(await unitOf(h, 'west'));
  });
});
