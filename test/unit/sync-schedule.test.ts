import { describe, expect, it } from 'vitest';
import { makeHandler as makePlanner } from '../../functions/schedule/sync-planner/handler';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import type { DirectorySource } from '../../shared/ports/directory-source';
import { ValidationError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { newRunId, type RunStatus } from '../../shared/ports/run-store';
import { chooseScheduledMode } from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { oneTenantSyncDeps } from '../support/sync-deps';

const NOW = Date.UTC(2024, 5, 1, 12);
const HOUR = 3600_000;
const tenant = tenantSchema.parse({
  id: 'acme',
  netease: { domain: 'acme.com', product: 'p', region: 'hz' },
  ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
});

/** The tenant has watermarks for both object types (its feed can serve an incremental run). */
async function watermarked(stores: ReturnType<typeof createMemoryStateStores>): Promise<void> {
  await stores.watermarks.advance('acme', 'ekp', 'department', '1', 'r');
  await stores.watermarks.advance('acme', 'ekp', 'person', '1', 'r');
}

function deps() {
  const clock = fixedClock(NOW);
  const stores = createMemoryStateStores({ clock });
  const source: DirectorySource = { kind: 'ekp', fullSnapshot: async () => ({ departments: [], people: [], complete: true, takenAt: NOW }) };
  const netease = { getUnitList: async () => [], getAllAccounts: async () => [] } as unknown as NeteaseDirectory;
  const d = oneTenantSyncDeps({ stores, jobs: { send: async () => undefined }, clock, logger: createMemoryLogger('error') }, tenant, source, netease);
  return { d, stores, clock };
}

async function addRun(stores: ReturnType<typeof createMemoryStateStores>, at: number, mode: 'full' | 'incremental', status: RunStatus) {
  const runId = newRunId(at);
  await stores.runs.create({ runId, tenantId: 'acme', source: 'ekp', trigger: 'schedule', mode, dryRun: false, startedAt: at, status });
  return runId;
}

describe('which run the schedule starts', () => {
  it('is full while the source has no watermark', async () => {
    const { d } = deps();
    expect(await chooseScheduledMode(d, 'acme', 'ekp')).toMatchObject({ mode: 'full', why: 'no watermark yet' });
  });

  it('is incremental after a recent successful full run, full again once it is a day old', async () => {
    const { d, stores, clock } = deps();
    await watermarked(stores);
    await addRun(stores, NOW - 2 * HOUR, 'full', 'success');
    await addRun(stores, NOW - HOUR, 'incremental', 'success');
    expect((await chooseScheduledMode(d, 'acme', 'ekp')).mode).toBe('incremental');
    clock.advance(23 * HOUR);
    expect(await chooseScheduledMode(d, 'acme', 'ekp')).toMatchObject({ mode: 'full', why: 'periodic full reconcile' });
  });

  it('is full once the tenant\'s sync.schedule.fullCron (02:00 Asia/Shanghai by default) fired after the last full run', async () => {
    const { d, stores, clock } = deps();
    await watermarked(stores);
    // NOW is 20:00 in Shanghai; the last full run was at 18:00 there.
    await addRun(stores, NOW - 2 * HOUR, 'full', 'success');
    clock.advance(5 * HOUR + 59 * 60_000); // 01:59 Shanghai: not yet
    expect((await chooseScheduledMode(d, 'acme', 'ekp')).mode).toBe('incremental');
    clock.advance(16 * 60_000); // 02:15 Shanghai: the 02:00 run is due (its own schedule found the tenant busy)
    expect(await chooseScheduledMode(d, 'acme', 'ekp')).toMatchObject({ mode: 'full', why: 'nightly full run (0 2 * * * Asia/Shanghai)' });
  });

  it('retries failed objects of an incremental run with a full run, but does not repeat a full run that ended with warnings', async () => {
    const { d, stores } = deps();
    await watermarked(stores);
    await addRun(stores, NOW - 3 * HOUR, 'full', 'warning');
    expect((await chooseScheduledMode(d, 'acme', 'ekp')).mode).toBe('incremental');
    await addRun(stores, NOW - 2 * HOUR, 'incremental', 'warning');
    expect((await chooseScheduledMode(d, 'acme', 'ekp')).mode).toBe('full');
    await addRun(stores, NOW - HOUR, 'full', 'failed');
    expect((await chooseScheduledMode(d, 'acme', 'ekp')).mode).toBe('full');
  });
});

describe('the sync planner handler', () => {
  it('runs every enabled tenant on a Scheduled Event and one tenant on demand', async () => {
    const { d } = deps();
    const planner = makePlanner({ sync: d });
    const scheduled = await planner({ 'detail-type': 'Scheduled Event', source: 'aws.events' } as never);
    expect(scheduled.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', mode: 'full', status: 'success' })]);
    const dry = await planner({ tenantId: 'acme', mode: 'full', dryRun: true });
    expect(dry.tenants[0]).toMatchObject({ tenantId: 'acme', status: 'dry_run' });
  });

  it('refuses an event that is neither, naming the fields', async () => {
    const { d } = deps();
    const planner = makePlanner({ sync: d });
    await expect(planner({ tenantId: 'acme', mode: 'sideways' } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(planner({ tenant: 'acme' } as never)).rejects.toThrow(/tenantId/);
  });
});

describe('per-tenant sync schedules (manifest + planner use case)', async () => {
  const { tenantSyncSchedules } = await import('../../shared/contracts/app-manifest');
  const { tenantSchema } = await import('../../shared/config/tenant-config.schema');
  const ekp = tenantSchema.parse({ id: 'ekp-t', netease: { domain: 'e.example.com', product: 'p', region: 'hz' }, ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } }, sync: { schedule: { fullCron: '30 1 * * *' } } });
  const dt = tenantSchema.parse({ id: 'dt-t', netease: { domain: 'd.example.com', product: 'p', region: 'hz' }, dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' } });

  it('gives callback sources a nightly full run only, and EKP incremental runs as well', () => {
    expect(tenantSyncSchedules([ekp, dt], { incrementalMinutes: 20 })).toEqual([
      expect.objectContaining({ name: 'ekp-t-full', kind: 'full', cron: '30 1 * * *', timezone: 'Asia/Shanghai' }),
      expect.objectContaining({ name: 'ekp-t-incremental', kind: 'incremental', rateMinutes: 20 }),
      expect.objectContaining({ name: 'dt-t-full', kind: 'full', cron: '0 2 * * *', timezone: 'Asia/Shanghai' }),
    ]);
  });

  it('refuses incremental minutes for a callback source, and a bad cron or zone, naming the field', () => {
    const r = tenantSchema.safeParse({ id: 'dt-t', netease: { domain: 'd.example.com', product: 'p', region: 'hz' }, dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' }, sync: { schedule: { incrementalMinutes: 15, fullCron: '0 25 * * *', timezone: 'Mars/Base' } } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths.some((p) => p.startsWith('sync.schedule.fullCron: hour'))).toBe(true);
    expect(paths.some((p) => p.startsWith('sync.schedule.timezone'))).toBe(true);
  });
});

describe('sync.fullRunCron (the name issue 9 gives the nightly full run)', () => {
  const base = { id: 'acme', netease: { domain: 'acme.com', product: 'p', region: 'hz' }, ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } } };
  it('sets schedule.fullCron', () => {
    const t = tenantSchema.parse({ ...base, sync: { fullRunCron: '30 3 * * *' } });
    expect(t.sync.schedule.fullCron).toBe('30 3 * * *');
    expect('fullRunCron' in t.sync).toBe(false);
  });
  it('is refused when it is not a cron, or when schedule.fullCron says otherwise', () => {
    expect(() => tenantSchema.parse({ ...base, sync: { fullRunCron: 'nightly' } })).toThrow(/fullRunCron/);
    expect(() => tenantSchema.parse({ ...base, sync: { fullRunCron: '30 3 * * *', schedule: { fullCron: '0 4 * * *' } } })).toThrow(/give one of them/);
    expect(tenantSchema.parse({ ...base, sync: { fullRunCron: '0 4 * * *', schedule: { fullCron: '0 4 * * *' } } }).sync.schedule.fullCron).toBe('0 4 * * *');
  });
});
