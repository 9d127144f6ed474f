/** The quota state as a guard (use-cases/usage) and the month projection. */
import { describe, expect, it } from 'vitest';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { MemoryUsageStore } from '../../shared/adapters/memory/memory-usage.store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import { monthBounds, usageMonth } from '../../shared/ports/usage-meter';
import { scheduleSyncRuns } from '../../shared/use-cases/sync';
import { quotaSpentReason } from '../../shared/use-cases/usage/quota-guard';
import { checkBudgets, projectMonth, resetBudgetWarningsForTests } from '../../shared/use-cases/usage/usage-report';

const NOW = Date.UTC(2026, 11, 10, 4, 0, 0); // 10 Dec 2026, 12:00 China time
const tenant = (quota = 10_000) =>
  tenantSchema.parse({
    id: 'quota-dt',
    netease: { domain: 'quota-dt.example.com', product: 'p', region: 'hz' },
    dingtalk: { corpId: 'c', appKey: 'k', agentId: '1', monthlyQuota: quota },
  });

describe('usage months and projection', () => {
  it('uses calendar months in China time', () => {
    expect(usageMonth(Date.UTC(2026, 10, 30, 16, 30))).toBe('2026-12'); // 1 Dec 00:30 in Beijing
    expect(monthBounds('2026-12')).toEqual({ start: Date.UTC(2026, 10, 30, 16), end: Date.UTC(2026, 11, 31, 16) });
  });

  it('projects at the daily rate so far, counting at least one day', () => {
    const { start } = monthBounds('2026-12');
    // 200 calls one hour into the month: a nightly run, not 200 an hour.
    expect(projectMonth(200, '2026-12', start + 3600_000).projection).toBe(200 * 31);
    expect(projectMonth(1000, '2026-12', start + 10 * 86_400_000).projection).toBe(3100);
  });
});

describe('the quota guard', () => {
  it('lets work run until the vendor refused, stops it after, and resumes when the quota is raised or the month turns', async () => {
    const usage = new MemoryUsageStore();
    const clock = fixedClock(NOW);
    expect(await quotaSpentReason({ usage, clock }, tenant(), 'dingtalk')).toBeUndefined();
    await usage.markExhausted('quota-dt', { vendor: 'dingtalk', month: usageMonth(NOW), at: NOW - 1000, api: 'topapi/v2/user/get', quotaAtExhaustion: 10_000 });
    expect(await quotaSpentReason({ usage, clock }, tenant(), 'dingtalk')).toMatch(/^DingTalk's monthly API quota is spent/);
    expect(await quotaSpentReason({ usage, clock }, tenant(20_000), 'dingtalk')).toBeUndefined();
    expect(await quotaSpentReason({ usage, clock: fixedClock(monthBounds('2027-01').start) }, tenant(), 'dingtalk')).toBeUndefined();
  });

  it('skips the scheduled run of a tenant whose source quota is spent, touching nothing', async () => {
    const usage = new MemoryUsageStore();
    await usage.markExhausted('quota-dt', { vendor: 'dingtalk', month: usageMonth(NOW), at: NOW, api: 'topapi/v2/department/listsub', quotaAtExhaustion: 10_000 });
    const stores = createMemoryStateStores();
    let sourceAsked = 0;
    const results = await scheduleSyncRuns({
      stores,
      jobs: { send: async () => undefined },
      clock: fixedClock(NOW),
      logger: createMemoryLogger(),
      tenants: () => [tenant()],
      directory: async () => {
        sourceAsked++;
        throw new Error('must not be read');
      },
      netease: async () => {
        throw new Error('must not be called');
      },
      usage,
    });
    expect(results).toEqual([{ tenantId: 'quota-dt', skipped: expect.stringMatching(/DingTalk's monthly API quota is spent/) }]);
    expect(sourceAsked).toBe(0);
    expect((await stores.runs.list('quota-dt', { limit: 10 })).items).toEqual([]);
  });
});

describe('budget warnings', () => {
  it('warns once at 80 % and once at 100 % of the projection, and emits the metric each time', async () => {
    resetBudgetWarningsForTests();
    const usage = new MemoryUsageStore();
    const logger = createMemoryLogger();
    const metrics: number[] = [];
    const { start } = monthBounds('2026-12');
    const clock = { now: () => start + 10 * 86_400_000 };
    const deps = { usage, clock, logger, tenant: () => tenant(), metric: (_n: string, v: number) => void metrics.push(v) };
    const add = (calls: number) => usage.add([{ tenantId: 'quota-dt', vendor: 'dingtalk', api: 'topapi/v2/user/list', cls: 'metered', month: '2026-12', calls }]);
    await add(2000); // projected 6,200: 62 %
    await checkBudgets(deps, 'quota-dt');
    await add(700); // 8,370: 83.7 %
    await checkBudgets(deps, 'quota-dt');
    await checkBudgets(deps, 'quota-dt');
    await add(1000); // 11,470: over
    await checkBudgets(deps, 'quota-dt');
    const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.code);
    expect(warnings).toEqual(['USAGE.PROJECTED_80', 'USAGE.PROJECTED_OVER']);
    expect(metrics).toEqual([62, 83.7, 83.7, 114.7]);
  });
});
