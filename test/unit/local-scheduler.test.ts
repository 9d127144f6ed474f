import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger';
import { Scheduler, scheduledEvent } from '../../local/scheduler';
import { invokeHandler, LambdaTimeoutError } from '../../local/lambda-invoke';

afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler', () => {
  it('invokes every rateMinutes with a Scheduled Event and skips a tick while the previous run is going', async () => {
    vi.useFakeTimers();
    const events: ScheduledEvent[] = [];
    let release!: () => void;
    const logger = createMemoryLogger();
    const s = new Scheduler({
      schedules: [{ fn: 'syncPlanner', rateMinutes: 15, description: '' }],
      stage: 'local',
      logger,
      rateOverrides: { syncPlanner: 2 },
      invoke: (_fn, e) => {
        events.push(e as ScheduledEvent);
        return new Promise((r) => (release = () => r(undefined)));
      },
    });
    expect(s.rates()).toEqual([{ fn: 'syncPlanner', rateMinutes: 2 }]);
    s.start();
    await vi.advanceTimersByTimeAsync(119_000);
    expect(events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events).toHaveLength(1);
    // Still running at the next tick: skipped, not overlapped.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(events).toHaveLength(1);
    expect(logger.lines.some((l) => String(l.msg).includes('skipped'))).toBe(true);
    release();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(events).toHaveLength(2);
    release();
    await s.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(events).toHaveLength(2);
  });

  it('fires each tenant full run on its cron in the tenant time zone, and EKP incremental runs every N minutes', async () => {
    vi.useFakeTimers();
    // 17:59 UTC = 01:59 in Asia/Shanghai.
    vi.setSystemTime(Date.UTC(2026, 11, 6, 17, 59, 0));
    const events: unknown[] = [];
    const s = new Scheduler({
      schedules: [],
      stage: 'local',
      logger: createMemoryLogger(),
      tenantSchedules: [
        { name: 'dt-full', tenantId: 'dt', kind: 'full', cron: '0 2 * * *', timezone: 'Asia/Shanghai', description: '' },
        { name: 'ekp-incremental', tenantId: 'ekp', kind: 'incremental', rateMinutes: 15, timezone: 'Asia/Shanghai', description: '' },
      ],
      invoke: async (_fn, e) => void events.push(e),
    });
    s.start();
    await vi.advanceTimersByTimeAsync(55_000);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000); // 18:00:05 UTC = 02:00 Beijing
    expect(events).toEqual([{ source: 'schedule', schedule: 'tenantSync', tenantId: 'dt', kind: 'full' }]);
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({ source: 'schedule', schedule: 'tenantSync', tenantId: 'ekp', kind: 'incremental' });
    await vi.advanceTimersByTimeAsync(24 * 3600_000 - 14 * 60_000);
    // A day later: one more full run, and an incremental run every 15 minutes.
    expect(events.filter((e) => (e as { kind: string }).kind === 'full')).toHaveLength(2);
    expect(events.filter((e) => (e as { kind: string }).kind === 'incremental')).toHaveLength(96);
    await s.stop();
  });

  it('runs a triggered invocation after the run in progress, never alongside it', async () => {
    let active = 0;
    let maxActive = 0;
    const s = new Scheduler({
      schedules: [{ fn: 'syncPlanner', rateMinutes: 15, description: '' }],
      stage: 'local',
      logger: createMemoryLogger(),
      timers: false,
      invoke: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 30));
        active -= 1;
        return 'done';
      },
    });
    const results = await Promise.all([s.trigger('syncPlanner'), s.trigger('syncPlanner'), s.trigger('syncPlanner')]);
    expect(results).toEqual(['done', 'done', 'done']);
    expect(maxActive).toBe(1);
    await expect(s.trigger('sso')).rejects.toThrow(/no schedule/);
  });

  it('builds the EventBridge Scheduled Event shape', () => {
    const e = scheduledEvent('local', 'syncPlanner', new Date('2026-11-21T08:15:00.123Z'));
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      region: 'us-east-1',
      time: '2026-11-21T08:15:00Z',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/qiye-bridge-local-syncPlanner'],
      detail: {},
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('invokeHandler', () => {
  it('passes a Lambda context whose remaining time counts down from the timeout', async () => {
    const seen = await invokeHandler({ name: 'sso', timeoutSeconds: 10, memoryMb: 512, stage: 'local' }, async (_e, ctx) => ({
      name: ctx.functionName,
      mem: ctx.memoryLimitInMB,
      remaining: ctx.getRemainingTimeInMillis(),
      arn: ctx.invokedFunctionArn,
    }), {});
    expect(seen).toMatchObject({ name: 'qiye-bridge-local-sso', mem: '512', arn: 'arn:aws:lambda:us-east-1:000000000000:function:qiye-bridge-local-sso' });
    expect((seen as { remaining: number }).remaining).toBeGreaterThan(5_000);
    expect((seen as { remaining: number }).remaining).toBeLessThanOrEqual(10_000);
  });

  it('fails an invocation that outlives its timeout', async () => {
    const err = await invokeHandler({ name: 'slow', timeoutSeconds: 0.05, memoryMb: 128, stage: 'local' }, () => new Promise((r) => setTimeout(r, 1_000)), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LambdaTimeoutError);
    expect((err as Error).message).toMatch(/Task timed out after 0\.05 seconds/);
  });
});
