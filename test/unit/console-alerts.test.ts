import { describe, expect, it } from 'vitest';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { Alert } from '../../shared/ports/alert-channels';
import { fixedClock } from '../../shared/ports/clock';
import type { QueueDepth } from '../../shared/ports/dead-letters';
import { newRunId } from '../../shared/ports/run-store';
import { alertRecipients, makeAlertChannels } from '../../shared/wiring/alert-channels';
import { raiseAlerts, type AlertDeps } from '../../shared/use-cases/console/raise-alerts';
import { SCHEDULES } from '../../shared/contracts/app-manifest';

const T0 = Date.UTC(2026, 5, 1, 8);
const tenant = tenantSchema.parse({
  id: 'acme',
  netease: { domain: 'acme.com', product: 'p', region: 'hz' },
  dingtalk: { corpId: 'c', appKey: 'k', agentId: '1' },
  console: { admins: ['dingtalk:boss', 'cas:other'], alerts: { channel: 'dingtalk', stuckMinutes: 30, callbackSilenceHours: 6 } },
});

function setup(depths: QueueDepth[] = []) {
  const clock = fixedClock(T0);
  const stores = createMemoryStateStores({ clock });
  const toTenant: Alert[] = [];
  const toOps: Alert[] = [];
  let failNext = false;
  const deps: AlertDeps = {
    tenants: () => [tenant],
    runs: stores.runs,
    once: stores.once,
    cache: stores.cache,
    clock,
    logger: createMemoryLogger('error'),
    channels: {
      toTenant: async (_t, a) => {
        if (failNext) {
          failNext = false;
          throw new Error('dingtalk down');
        }
        toTenant.push(a);
        return true;
      },
      toOperators: async (a) => (toOps.push(a), true),
    },
    deadLetters: { depths: async () => depths, redrive: async () => ({ moved: 0 }) },
    consoleBaseUrl: 'https://api.example.com',
  };
  return { deps, stores, clock, toTenant, toOps, failNext: () => (failNext = true) };
}

describe('console alerts', () => {
  it('run every minute, so a parked run reaches its admins within one (CDK and the local stack both use this schedule)', () => {
    expect(SCHEDULES.find((x) => x.fn === 'alerts')?.rateMinutes).toBe(1);
  });

  it('alerts a parked run once, to the tenant and the operators, with the run\'s console link', async () => {
    const s = setup();
    const runId = newRunId(T0);
    await s.stores.runs.create({ runId, tenantId: 'acme', trigger: 'callback', mode: 'full', dryRun: false, startedAt: T0, status: 'awaiting_approval' });
    await raiseAlerts(s.deps);
    await raiseAlerts(s.deps);
    expect(s.toTenant.map((a) => [a.kind, a.url])).toEqual([['run.parked', `https://api.example.com/console/t/acme/runs/${runId}`]]);
    expect(s.toOps).toHaveLength(1);
  });

  it('retries an alert whose send failed on the next run', async () => {
    const s = setup();
    await s.stores.runs.create({ runId: newRunId(T0), tenantId: 'acme', trigger: 'callback', mode: 'full', dryRun: false, startedAt: T0, status: 'awaiting_approval' });
    s.failNext();
    expect((await raiseAlerts(s.deps)).failed).toHaveLength(1);
    expect((await raiseAlerts(s.deps)).sent).toHaveLength(1);
    expect(s.toTenant).toHaveLength(1);
  });

  it('reports a run with no progress for stuckMinutes, not before', async () => {
    const s = setup();
    await s.stores.runs.create({ runId: newRunId(T0), tenantId: 'acme', trigger: 'callback', mode: 'full', dryRun: false, startedAt: T0, status: 'applying' });
    s.clock.advance(29 * 60_000);
    await raiseAlerts(s.deps);
    expect(s.toTenant).toEqual([]);
    s.clock.advance(2 * 60_000);
    await raiseAlerts(s.deps);
    expect(s.toTenant.map((a) => a.kind)).toEqual(['run.stuck']);
  });

  it('reports silent callbacks once per silence, and again after callbacks came back and stopped', async () => {
    const s = setup();
    await raiseAlerts(s.deps);
    expect(s.toTenant.map((a) => a.kind)).toEqual(['callbacks.silent']);
    await raiseAlerts(s.deps);
    expect(s.toTenant).toHaveLength(1);
    await s.stores.runs.create({ runId: newRunId(s.clock.now()), tenantId: 'acme', trigger: 'callback', mode: 'incremental', dryRun: false, startedAt: s.clock.now(), status: 'success' });
    await raiseAlerts(s.deps);
    expect(s.toTenant).toHaveLength(1);
    s.clock.advance(7 * 3600_000);
    await raiseAlerts(s.deps);
    expect(s.toTenant.map((a) => a.kind)).toEqual(['callbacks.silent', 'callbacks.silent']);
  });

  it('tells the operators (not the tenants) about a non-empty DLQ, once while it stays non-empty', async () => {
    const s = setup([{ queue: 'sync', messages: 0, deadLetters: 3 }]);
    await raiseAlerts(s.deps);
    await raiseAlerts(s.deps);
    const dlq = s.toOps.filter((a) => a.kind === 'dlq.not_empty');
    expect(dlq.map((a) => a.url)).toEqual(['https://api.example.com/console/dlq']);
    expect(s.toTenant.some((a) => a.kind === 'dlq.not_empty')).toBe(false);
  });

  it('sends DingTalk alerts to the DingTalk admins as a markdown work notice', async () => {
    expect(alertRecipients(tenant, 'dingtalk')).toEqual(['boss']);
    const sent: unknown[] = [];
    const channels = makeAlertChannels({
      dingtalk: () => ({ sendWorkNotification: async (x) => (sent.push(x), { taskId: '1' }) }),
      wecom: () => ({ sendTextCard: async () => ({ msgId: '1', invalidUsers: [], unlicensedUsers: [] }) }),
      robot: async () => undefined,
      topic: async () => false,
    });
    await channels.toTenant(tenant, { tenantId: 'acme', key: 'k', kind: 'run.parked', title: 'T', lines: ['a [b](c)'], url: 'https://x/console' });
    expect(sent).toEqual([{ userIds: ['boss'], msg: { msgtype: 'markdown', markdown: { title: 'T', text: expect.stringContaining('[打开控制台 Open in console](https://x/console)') } } }]);
    expect(JSON.stringify(sent)).toContain('a \\\\[b\\\\]\\\\(c\\\\)');
  });
});
