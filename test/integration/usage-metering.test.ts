/**
 * Vendor API metering: the usage stores (DynamoDB against dynalite, and the memory twin)
 * through the same behaviours, and the DingTalk client counting its calls through a
 * BufferedUsageMeter against the DingTalk simulator over HTTP, including the monthly quota
 * (90020) as a named, non-retried state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoUsageStore } from '../../shared/adapters/aws/dynamo-usage.store';
import { MemoryUsageStore } from '../../shared/adapters/memory/memory-usage.store';
import { DingtalkClient } from '../../shared/adapters/dingtalk/dingtalk.client';
import { DingtalkDirectorySource } from '../../shared/adapters/dingtalk/dingtalk.directory-source';
import { DingtalkApiError } from '../../shared/adapters/dingtalk/dingtalk.errors';
import { secretName } from '../../shared/config/secrets';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock, systemClock } from '../../shared/ports/clock';
import { usageMonth, type UsageStore } from '../../shared/ports/usage-meter';
import { BufferedUsageMeter } from '../../shared/use-cases/usage/buffered-meter';
import { getUsage, quotaState } from '../../shared/use-cases/usage/usage-report';
import { pointDingtalkAt, startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { startDynaliteTable, type DynaliteTable } from './dynalite-table';

const TABLE = 'qiye-bridge-usage-test';
const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);
const MONTH = usageMonth(NOW);
let db: DynaliteTable;

beforeAll(async () => {
  db = await startDynaliteTable(TABLE);
});
afterAll(async () => db?.stop());

let n = 0;
const implementations: Array<[string, () => { store: UsageStore; tenant: string }]> = [
  ['memory', () => ({ store: new MemoryUsageStore(), tenant: `t-mem-${++n}` })],
  ['dynamo (dynalite)', () => ({ store: new DynamoUsageStore(db.doc, TABLE), tenant: `t-ddb-${++n}` })],
];

describe.each(implementations)('UsageStore: %s', (_name, make) => {
  it('adds increments to per-API counters of the month and lists them', async () => {
    const { store, tenant } = make();
    await store.add([
      { tenantId: tenant, vendor: 'dingtalk', api: 'topapi/v2/user/list', cls: 'metered', month: MONTH, calls: 3 },
      { tenantId: tenant, vendor: 'dingtalk', api: 'gettoken', cls: 'free', month: MONTH, calls: 1 },
    ]);
    await store.add([{ tenantId: tenant, vendor: 'dingtalk', api: 'topapi/v2/user/list', cls: 'metered', month: MONTH, calls: 4 }]);
    await store.add([{ tenantId: tenant, vendor: 'dingtalk', api: 'topapi/v2/user/list', cls: 'metered', month: '2026-11', calls: 100 }]);
    const got = (await store.counters(tenant, MONTH)).sort((a, b) => a.api.localeCompare(b.api));
    expect(got).toEqual([
      { vendor: 'dingtalk', api: 'gettoken', cls: 'free', calls: 1 },
      { vendor: 'dingtalk', api: 'topapi/v2/user/list', cls: 'metered', calls: 7 },
    ]);
  });

  it('refuses a bad increment and writes none of the batch', async () => {
    const { store, tenant } = make();
    await expect(store.add([
      { tenantId: tenant, vendor: 'dingtalk', api: 'a', cls: 'metered', month: MONTH, calls: 1 },
      { tenantId: tenant, vendor: 'dingtalk', api: 'b?access_token=x', cls: 'metered', month: MONTH, calls: 1 },
    ])).rejects.toThrow(/query string/);
    expect(await store.counters(tenant, MONTH)).toEqual([]);
  });

  it('records the quota exhaustion once per vendor and month, and forgets it when cleared', async () => {
    const { store, tenant } = make();
    const x = { vendor: 'dingtalk' as const, month: MONTH, at: NOW, api: 'topapi/v2/user/get', quotaAtExhaustion: 10_000 };
    expect(await store.markExhausted(tenant, x)).toBe(true);
    expect(await store.markExhausted(tenant, { ...x, at: NOW + 1 })).toBe(false);
    expect(await store.exhaustion(tenant, 'dingtalk', MONTH)).toEqual(x);
    expect(await store.exhaustion(tenant, 'dingtalk', '2027-01')).toBeUndefined();
    await store.clearExhausted(tenant, 'dingtalk', MONTH);
    expect(await store.exhaustion(tenant, 'dingtalk', MONTH)).toBeUndefined();
  });
});

describe('DingTalk calls through the meter (simulator over HTTP)', () => {
  const APP_SECRET = 'dt-app-secret-usage-0001';
  const base: TenantConfig = tenantSchema.parse({
    id: 'usage-dt',
    netease: { domain: 'usage-dt.example.com', product: 'usage_dt', region: 'hz' },
    dingtalk: { corpId: 'dingusagecorp', appKey: 'dingusageappkey', agentId: '2000009', requestsPerSecond: 20, monthlyQuota: 40 },
  });
  const secrets = new MemorySecrets();
  let sim: RunningDingtalkSimulator;
  let tenant: TenantConfig;

  beforeAll(async () => {
    secrets.values.set(secretName('test', base.id, 'dingtalk'), { appSecret: APP_SECRET });
    sim = await startDingtalkSimulator({ tenants: [base], secrets, stage: 'test', rateLimit: { limit: 1000, windowMs: 1000 }, people: 30 });
    tenant = pointDingtalkAt(base, sim.url);
  });
  afterAll(async () => sim.stop());
  beforeEach(() => sim.reset());

  const setup = () => {
    const store = new MemoryUsageStore();
    const logger = createMemoryLogger();
    const meter = new BufferedUsageMeter({ store, clock: systemClock, logger, quotaOf: () => tenant.dingtalk!.monthlyQuota });
    const client = new DingtalkClient({ tenantId: tenant.id, config: tenant.dingtalk!, appSecret: async () => APP_SECRET, retryBaseDelayMs: 5, retryMaxDelayMs: 20, meter });
    return { store, logger, meter, client };
  };

  it('counts every call of a full snapshot by API and class, in a few batched writes', async () => {
    const { store, meter, client } = setup();
    await new DingtalkDirectorySource(client).fullSnapshot();
    await meter.flush();
    const sent = sim.state(tenant.id).calls;
    const counted = await store.counters(tenant.id, usageMonth(Date.now()));
    // What the simulator received is what was counted, API by API.
    expect(Object.fromEntries(counted.map((c) => [c.api, c.calls]))).toEqual(sent);
    expect(counted.find((c) => c.api === 'gettoken')?.cls).toBe('free');
    expect(counted.filter((c) => c.api.startsWith('topapi/')).every((c) => c.cls === 'metered')).toBe(true);
    const calls = Object.values(sent).reduce((a, b) => a + b, 0);
    expect(calls).toBeGreaterThan(10);
    // Batched: one write per API and flush, not one per call.
    expect(store.writes).toBeLessThanOrEqual(counted.length * 2);
  });

  it('stops at 90020 without retrying, and records the month as spent until the quota is raised', async () => {
    const { store, meter, client, logger } = setup();
    await fetch(`${sim.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: tenant.id, monthlyQuota: { limit: 5 } }) });
    const err = await new DingtalkDirectorySource(client).fullSnapshot().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DingtalkApiError);
    expect((err as DingtalkApiError).kind).toBe('quota');
    expect((err as DingtalkApiError).retryable).toBe(false);
    await meter.flush();
    const state = sim.state(tenant.id);
    // The refused call is answered once: no retry burns more (5 allowed, then one 90020 per reader in flight at most).
    expect(state.errors['90020']).toBeGreaterThanOrEqual(1);
    expect(state.errors['90020']).toBeLessThanOrEqual(4);
    const month = usageMonth(Date.now());
    expect(await store.exhaustion(tenant.id, 'dingtalk', month)).toMatchObject({ vendor: 'dingtalk', quotaAtExhaustion: 40 });
    expect(logger.lines.some((l) => l.msg === "DingTalk's monthly API quota is spent")).toBe(true);

    const deps = (quota: number) => ({ usage: store, clock: systemClock, tenant: () => ({ ...tenant, dingtalk: { ...tenant.dingtalk!, monthlyQuota: quota } }) });
    expect((await quotaState(deps(40), tenant.id, 'dingtalk')).spent).toBe(true);
    // Raised above the quota at the refusal: work resumes.
    expect((await quotaState(deps(50_000), tenant.id, 'dingtalk')).spent).toBe(false);
    const report = await getUsage(deps(40), tenant.id);
    expect(report.vendors.find((v) => v.vendor === 'dingtalk')).toMatchObject({ quota: 40, quotaSpent: true });
  });

  it('keeps counts when the store fails and writes them with the next flush', async () => {
    const store = new MemoryUsageStore();
    let fail = true;
    const flaky: UsageStore = { ...store, counters: store.counters.bind(store), markExhausted: store.markExhausted.bind(store), exhaustion: store.exhaustion.bind(store), clearExhausted: store.clearExhausted.bind(store), add: async (i) => (fail ? Promise.reject(new Error('down')) : store.add(i)) };
    const meter = new BufferedUsageMeter({ store: flaky, clock: fixedClock(NOW), logger: createMemoryLogger(), quotaOf: () => 0 });
    for (let i = 0; i < 3; i++) meter.record({ tenantId: 't1', vendor: 'dingtalk', api: 'topapi/v2/user/get', cls: 'metered' });
    await meter.flush();
    expect(meter.unflushed).toBe(3);
    fail = false;
    meter.record({ tenantId: 't1', vendor: 'dingtalk', api: 'topapi/v2/user/get', cls: 'metered' });
    await meter.flush();
    expect(await store.counters('t1', MONTH)).toEqual([{ vendor: 'dingtalk', api: 'topapi/v2/user/get', cls: 'metered', calls: 4 }]);
  });
});
