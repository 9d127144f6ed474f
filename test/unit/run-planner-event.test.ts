/**
 * runPlannerEvent (shared/use-cases/sync/run-planner-event.ts): the sync planner's schedules
 * and direct invocations, with in-memory stores, a fixed clock and a fake source and NetEase.
 * The handler's plan-queue path is covered by sync-request.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { ValidationError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { DirectorySource } from '../../shared/ports/directory-source';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import type { OnceStore } from '../../shared/ports/once-store';
import { newRunId } from '../../shared/ports/run-store';
import { SYNC_LOCK } from '../../shared/use-cases/sync';
import { runPlannerEvent, type PlannerDeps } from '../../shared/use-cases/sync/run-planner-event';

const NOW = Date.UTC(2024, 5, 1, 12);

/** An EKP tenant that also signs in through DingTalk: a linked channel, so the daily links pull concerns it. */
function linkedTenant(id: string): TenantConfig {
  return tenantSchema.parse({
    id,
    netease: { domain: `${id}.example.com`, product: 'p', region: 'hz' },
    ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
    dingtalk: { corpId: `corp-${id}`, appKey: 'k', agentId: '1' },
    sync: { source: 'ekp' },
  });
}

function setup(opts: { failingPull?: boolean } = {}) {
  const clock = fixedClock(NOW);
  const stores = createMemoryStateStores({ clock });
  const logger = createMemoryLogger('error');
  const tenants = [linkedTenant('acme'), linkedTenant('beta')];
  const source: DirectorySource = { kind: 'ekp', fullSnapshot: async () => ({ departments: [], people: [], complete: true, takenAt: NOW }) };
  const netease = { getUnitList: async () => [], getAllAccounts: async () => [] } as unknown as NeteaseDirectory;
  // Which tenants the links pull claimed its day for (the first thing it does per tenant).
  const pulled: string[] = [];
  const once: OnceStore = {
    ...stores.once,
    begin: async (tenantId, ...rest) => {
      if (opts.failingPull) throw new Error('store unavailable');
      pulled.push(tenantId);
      return stores.once.begin(tenantId, ...rest);
    },
    complete: (...a) => stores.once.complete(...a),
    release: (...a) => stores.once.release(...a),
    get: (...a) => stores.once.get(...a),
  };
  const deps: PlannerDeps = {
    sync: { stores, jobs: { send: async () => undefined }, clock, logger, tenants: () => tenants, directory: async () => source, netease: async () => netease },
    links: {
      links: undefined as never,
      clock,
      logger,
      sourcePeople: async () => [],
      channelDirectory: async () => {
        throw new Error('no channel directory in this test');
      },
      once,
    },
  };
  return { deps, stores, logger, pulled };
}

describe('runPlannerEvent', () => {
  it("runs a tenant schedule's sync for that tenant only, then pulls only its identity links", async () => {
    // Prepare
    const { deps, stores, pulled } = setup();
    // Act
    const result = await runPlannerEvent(deps, { source: 'schedule', schedule: 'tenantSync', tenantId: 'acme', kind: 'full' });
    // Assess
    expect(result.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', mode: 'full', status: 'success' })]);
    expect((await stores.runs.list('beta')).items).toEqual([]);
    expect(pulled).toEqual(['acme']);
  });

  it('runs every tenant on the every-tenant tick, then pulls every tenant\'s identity links', async () => {
    const { deps, pulled } = setup();
    const result = await runPlannerEvent(deps, { 'detail-type': 'Scheduled Event', source: 'aws.events' });
    expect(result.tenants.map((t) => [t.tenantId, t.status])).toEqual([
      ['acme', 'success'],
      ['beta', 'success'],
    ]);
    expect(pulled).toEqual(['acme', 'beta']);
  });

  it('logs a failed links pull and still answers with the sync result', async () => {
    const { deps, logger } = setup({ failingPull: true });
    const result = await runPlannerEvent(deps, { source: 'schedule', schedule: 'tenantSync', tenantId: 'acme', kind: 'full' });
    expect(result.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', status: 'success' })]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'daily links pull failed' }));
  });

  it('pulls no links when the links are not wired', async () => {
    const { deps, pulled } = setup();
    const { links: _links, ...withoutLinks } = deps;
    await runPlannerEvent(withoutLinks, { 'detail-type': 'Scheduled Event' });
    expect(pulled).toEqual([]);
  });

  it('answers a direct invocation with its run, and as skipped (naming the run) while another run holds the tenant', async () => {
    const { deps, stores } = setup();
    const dry = await runPlannerEvent(deps, { tenantId: 'acme', mode: 'full', dryRun: true });
    expect(dry.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', mode: 'full', status: 'dry_run', runId: expect.any(String) })]);
    const holder = newRunId(NOW - 1000);
    await stores.locks.acquire('acme', SYNC_LOCK, holder, 60_000);
    const busy = await runPlannerEvent(deps, { tenantId: 'acme' });
    expect(busy.tenants).toEqual([{ tenantId: 'acme', skipped: expect.stringContaining(holder), runId: holder }]);
  });

  it('refuses an event of no known shape with SYNC.BAD_EVENT, naming the fields', async () => {
    const { deps, stores, pulled } = setup();
    const err = await runPlannerEvent(deps, { tenantId: 'acme', mode: 'sideways' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'SYNC.BAD_EVENT', message: expect.stringContaining('mode') });
    // A schedule input with an unknown kind is not run as a schedule, nor as a direct invocation.
    await expect(runPlannerEvent(deps, { source: 'schedule', schedule: 'tenantSync', tenantId: 'acme', kind: 'weekly' })).rejects.toMatchObject({ code: 'SYNC.BAD_EVENT' });
    expect((await stores.runs.list('acme')).items).toEqual([]);
    expect(pulled).toEqual([]);
  });
});
