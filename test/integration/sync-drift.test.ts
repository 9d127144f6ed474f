/**
 * Drift: NetEase changed behind the bridge's back (an admin in NetEase's console, NetEase
 * support, a restore), edited through the simulator's admin route over HTTP. One full run
 * finds every kind of drift and repairs it; report mode only reports it and ends warning.
 * The real sync engine, the real legacy client over HTTP, the NetEase simulator.
 */
import { describe, expect, it } from 'vitest';
import type { AdminEdit } from '../../local/simulators/netease/netease-sim.admin';
import type { Department, Person } from '../../shared/domain/directory';
import type { DriftItem } from '../../shared/domain/sync-plan';
import { explainObject } from '../../shared/use-cases/sync';
import { withOpenPlatform } from '../../shared/wiring/tenant-clients';
import { createOpenPlatformHarness, createSyncHarness, dept as d, driftCheck, fileSimulator, MemoryDirectorySource, person as p, type HarnessOptions, type SyncHarness } from './sync-harness';

const shared = fileSimulator(5);
let counter = 0;

function org(): { departments: Department[]; people: Person[] } {
  return {
    departments: [d('hq', '总部'), d('sales', '销售部', 'hq'), d('rnd', '研发部', 'hq'), d('east', '华东区', 'sales')],
    people: [p('p1', 'east'), p('p2', 'east'), p('p3', 'sales', { jobNumber: 'J3' }), p('p4', 'rnd'), p('p5', 'rnd'), p('p6', 'hq'), p('p7', 'hq')],
  };
}

async function setup(opts: HarnessOptions = {}): Promise<SyncHarness> {
  const tenantId = `d${++counter}-acme`;
  const o = org();
  const h = await createSyncHarness({ sim: shared.sim, tenantId, domain: `${tenantId}.example.com`, source: new MemoryDirectorySource(o.departments, o.people), ...opts });
  shared.keep(h);
  expect((await h.run({ mode: 'full' })).run.status).toBe('success');
  return h;
}

/** Edit NetEase as an admin would, over the simulator's HTTP control route. */
async function admin(h: SyncHarness, edits: AdminEdit[]): Promise<void> {
  const res = await fetch(`${h.sim.url}/__sim/admin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ domain: h.tenant.netease.domain, edits }) });
  expect(res.status).toBe(200);
}

async function unitOf(h: SyncHarness, dept: string): Promise<string> {
  return (await h.stores.mappings.get({ tenantId: h.tenant.id, source: 'ekp', objectType: 'department', sourceId: dept }))!.neteaseId;
}

const driftOf = (run: { summary?: unknown }) => ((run.summary as { drift?: { items: DriftItem[] } }).drift?.items ?? []).map((d) => `${d.sourceId}:${d.kind}`).sort();

describe('a full run reconciles with NetEase', () => {
  it('finds and repairs, in one run, mailboxes an admin deleted, purged, suspended, renamed and moved, and a leaver an admin re-activated', async () => {
    const h = await setup();
    // p7 leaves: the bridge suspends the mailbox.
    h.source.editPerson('p7', (p) => void (p.status = 'left'));
    await h.run({ mode: 'full' });
    await admin(h, [
      { action: 'deleteAccount', accountName: 'p1' },
      { action: 'purgeAccount', accountName: 'p2' },
      { action: 'suspendAccount', accountName: 'p3' },
      { action: 'renameAccount', accountName: 'p4', nickname: 'Renamed by admin' },
      { action: 'moveAccount', accountName: 'p5', unitId: await unitOf(h, 'sales') },
      { action: 'recoverAccount', accountName: 'p7' },
    ]);
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });

    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ drifted: 6, repaired: 6, failed: 0 });
    expect(driftOf(run)).toEqual(['p1:deleted', 'p2:missing', 'p3:status', 'p4:profile', 'p5:unit', 'p7:status']);
    expect(h.writeCalls(since).map((c) => c.path).sort()).toEqual(['createAccount', 'moveUnit', 'recoverAccount', 'recoverAccount', 'suspendAccount', 'updateAccount']);
    expect(await driftCheck(h)).toEqual([]);
    expect(h.netease().accounts.p7?.status).toBe(1);

    // Converged: the next full run finds no drift and writes nothing.
    const quiet = await h.mark();
    const next = await h.run({ mode: 'full' });
    expect(next.run.status).toBe('success');
    expect(next.run.counts.drifted).toBe(0);
    expect(h.writeCalls(quiet)).toEqual([]);
  });

  it('renames back a unit an admin renamed, re-creates one an admin deleted, and puts back one an admin moved (legacy API)', async () => {
    const h = await setup();
    // Empty R&D first (as an admin must, NetEase refuses to delete a non-empty unit), then delete it.
    const rnd = await unitOf(h, 'rnd');
    await admin(h, [
      { action: 'moveAccount', accountName: 'p4', unitId: 'default' },
      { action: 'moveAccount', accountName: 'p5', unitId: 'default' },
      { action: 'deleteUnit', unitId: rnd },
      { action: 'renameUnit', unitId: await unitOf(h, 'sales'), unitName: 'Sales (renamed)' },
      { action: 'moveUnit', unitId: await unitOf(h, 'east') },
    ]);
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(driftOf(run)).toEqual(['east:parent', 'p4:unit', 'p5:unit', 'rnd:missing', 'sales:name']);
    expect(await driftCheck(h)).toEqual([]);
  });

  it('rebuilds an emptied domain in one full run, with no duplicate', async () => {
    const h = await setup();
    const people = h.source.allPeople().length;
    const departments = h.source.allDepartments().length;
    await admin(h, [{ action: 'emptyDomain' }]);
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ created: departments + people, drifted: departments + people, repaired: departments + people });
    expect(Object.keys(h.netease().units)).toHaveLength(departments);
    expect(Object.keys(h.netease().accounts)).toHaveLength(people);
    expect(await driftCheck(h)).toEqual([]);
    const quiet = await h.mark();
    await h.run({ mode: 'full' });
    expect(h.writeCalls(quiet)).toEqual([]);
  });

  it('an incremental run does not read NetEase, so it finds no drift (the nightly full run does)', async () => {
    const h = await setup();
    await admin(h, [{ action: 'suspendAccount', accountName: 'p1' }]);
    const { run } = await h.run({ mode: 'incremental' });
    expect(run.mode).toBe('incremental');
    expect(run.counts.drifted).toBe(0);
    expect(h.netease().accounts.p1?.status).toBe(1);
  });
});

describe('with the open platform configured', () => {
  it('reads statuses from its account list (getAccount only for a mapped mailbox it does not list) and repairs the drift', async () => {
    // The API as shared/wiring/tenant-clients.ts composes it.
    const h = await createOpenPlatformHarness({ sim: shared.sim, tenantId: `d${++counter}-open`, org: org(), wrapApi: withOpenPlatform });
    const domain = h.tenant.netease.domain;
    shared.keep(h);
    await h.run({ mode: 'full' });
    await admin(h, [
      { action: 'suspendAccount', accountName: 'p1' },
      { action: 'deleteAccount', accountName: 'p2' },
      { action: 'moveAccount', accountName: 'p4', unitId: await unitOf(h, 'hq') },
    ]);
    const since = await h.mark();
    const { run } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(run.counts).toMatchObject({ drifted: 3, repaired: 3 });
    const reads = shared.sim.calls({ domain }).filter((c) => c.at >= since && /getAccount(List)?$/.test(c.path)).map((c) => `${c.path.replace(/^.*\/(qiyeservice\/api|api\/open)\//, '')}${c.params?.account_name ? ` ${c.params.account_name}` : ''}`);
    expect(reads.sort()).toEqual(['account/getAccount p2', 'unit/getAccountList']);
    expect(await driftCheck(h)).toEqual([]);
  });
});

describe('explain', () => {
  it('shows what NetEase really holds beside the mapping: a mailbox deleted in the console is not called active', async () => {
    const h = await setup();
    await admin(h, [{ action: 'deleteAccount', accountName: 'p1' }, { action: 'renameUnit', unitId: await unitOf(h, 'rnd'), unitName: 'R&D (renamed)' }]);
    const person = await explainObject(h.deps, h.tenant.id, 'p1', { readSource: false });
    expect(person.mapping?.status).toBe('active');
    expect(person.netease).toMatchObject({ read: 'ok', exists: true, status: 'deleted', differences: ['status: mapping active, NetEase deleted'] });
    const unit = await explainObject(h.deps, h.tenant.id, 'rnd', { type: 'department', readSource: false });
    expect(unit.netease?.differences).toEqual(['name: mapping 研发部, NetEase R&D (renamed)']);
    await admin(h, [{ action: 'purgeAccount', accountName: 'p1' }]);
    expect((await explainObject(h.deps, h.tenant.id, 'p1', { readSource: false })).netease).toMatchObject({ exists: false, differences: ['the mapping says active, NetEase has no such mailbox'] });
    // After the full run, they agree again.
    await h.run({ mode: 'full' });
    expect((await explainObject(h.deps, h.tenant.id, 'p1', { readSource: false })).netease).toMatchObject({ exists: true, status: 'active', differences: [] });
  });
});

describe('report mode (sync.driftMode: report)', () => {
  it('writes nothing, ends warning naming the drifted objects, and does so every run until fixed', async () => {
    const h = await setup({ sync: { driftMode: 'report' } });
    await admin(h, [
      { action: 'suspendAccount', accountName: 'p1' },
      { action: 'renameAccount', accountName: 'p2', nickname: 'Changed' },
    ]);
    for (let i = 0; i < 2; i++) {
      const since = await h.mark();
      const { run } = await h.run({ mode: 'full' });
      expect(run.status).toBe('warning');
      expect(run.counts).toMatchObject({ drifted: 2, repaired: 0 });
      expect(h.writeCalls(since)).toEqual([]);
      const summary = run.summary as { unresolved?: { items: Array<{ sourceId: string }> } };
      expect(summary.unresolved?.items.map((u) => u.sourceId).sort()).toEqual(['p1', 'p2']);
    }
    expect(h.netease().accounts.p1?.status).toBe(1);
  });
});

describe('company addresses only', () => {
  it('a person whose only address is personal gets no mailbox named after it; a company address still counts', async () => {
    const h = await setup({ sync: { onlyWithEmail: true } });
    h.source.putPerson({ id: 'q1', displayName: 'Personal', email: 'someone@qq.com', departmentIds: ['hq'], mainDepartmentId: 'hq', status: 'active' });
    h.source.putPerson({ id: 'q2', displayName: 'Company', email: `q2@${h.tenant.netease.domain}`, departmentIds: ['hq'], mainDepartmentId: 'hq', status: 'active' });
    const { run, planText } = await h.run({ mode: 'full' });
    expect(run.status).toBe('success');
    expect(h.netease().accounts.someone).toBeUndefined();
    expect(h.netease().accounts.q2?.status).toBe(0);
    expect((run.summary as { notes: Record<string, number> }).notes.personalAddressIgnored).toBe(1);
    expect(planText).not.toContain('someone@qq.com');
  });
});
