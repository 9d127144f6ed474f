/**
 * Local EventBridge schedules: invoke each scheduled function every `rateMinutes` with a
 * Scheduled Event, like an EventBridge `rate(n minutes)` rule (first run one period after
 * start). A run never overlaps the previous run of the same function: a tick that finds
 * it still running is skipped. `trigger(fn)` runs it now (after any run in progress).
 *
 * Tenant sync schedules (tenantSyncSchedules in the manifest, the same definitions the CDK
 * stack deploys): a full run's cron is matched in the tenant's time zone once a minute, as
 * EventBridge Scheduler does; incremental runs every `rateMinutes`. Each sends the
 * planner the same input as in AWS (`{source:'schedule', schedule:'tenantSync', ...}`).
 *
 * Differences from AWS: a failed run is logged, not retried (EventBridge invokes
 * asynchronously and Lambda retries twice), and AWS does not prevent overlaps by itself
 * (the planner must tolerate them there; locally we keep runs apart to keep logs readable).
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { tenantScheduleEvent, type FunctionName, type ScheduleSpec, type TenantSyncSchedule } from '../shared/contracts/app-manifest';
import { cronMatches, parseCron } from '../shared/domain/cron';
import type { Logger } from '../shared/logging/logger';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-invoke';

export interface SchedulerOptions {
  schedules: readonly ScheduleSpec[];
  /** Runs the function with the event; resolves with its result, rejects on failure. */
  invoke: (fn: FunctionName, event: unknown) => Promise<unknown>;
  /** Per-tenant sync schedules (invoke the sync planner). */
  tenantSchedules?: readonly TenantSyncSchedule[];
  stage: string;
  logger: Logger;
  /** Minutes between runs per function, overriding the manifest. */
  rateOverrides?: Partial<Record<FunctionName, number>>;
  /** Start the timers (default true); false = only `trigger()`. */
  timers?: boolean;
}

export function scheduledEvent(stage: string, fn: FunctionName, now = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    // EventBridge sends whole seconds: 2026-11-21T08:15:00Z
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:rule/qiye-bridge-${stage}-${fn}`],
    detail: {},
  };
}

export class Scheduler {
  private readonly timers = new Map<FunctionName, NodeJS.Timeout>();
  private readonly running = new Map<FunctionName, Promise<unknown>>();
  private readonly tenantTimers: NodeJS.Timeout[] = [];
  private readonly tenantRuns = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {}

  /** Minutes between runs of each scheduled function, after overrides. */
  rates(): Array<{ fn: FunctionName; rateMinutes: number }> {
    return this.opts.schedules.map((s) => ({ fn: s.fn, rateMinutes: this.opts.rateOverrides?.[s.fn] ?? s.rateMinutes }));
  }

  start(): void {
    if (this.opts.timers === false) return;
    for (const { fn, rateMinutes } of this.rates()) {
      const t = setInterval(() => this.tick(fn), rateMinutes * 60_000);
      t.unref();
      this.timers.set(fn, t);
    }
    const crons = (this.opts.tenantSchedules ?? []).filter((s) => s.cron).map((s) => ({ s, cron: parseCron(s.cron!) }));
    if (crons.length > 0) {
      // Check every minute boundary (a few ms after it) which tenant crons fire now.
      let last = -1;
      const t = setInterval(() => {
        const minute = Math.floor(Date.now() / 60_000);
        if (minute === last) return;
        last = minute;
        for (const { s, cron } of crons) if (cronMatches(cron, minute * 60_000, s.timezone)) this.runTenant(s);
      }, 5_000);
      t.unref();
      this.tenantTimers.push(t);
    }
    for (const s of this.opts.tenantSchedules ?? []) {
      if (!s.rateMinutes) continue;
      const t = setInterval(() => this.runTenant(s), s.rateMinutes * 60_000);
      t.unref();
      this.tenantTimers.push(t);
    }
  }

  /** One tenant schedule fires: the planner gets that tenant's input (runs of one tenant never overlap: its lock). */
  private runTenant(s: TenantSyncSchedule): void {
    if (this.stopped) return;
    const started = Date.now();
    const p = this.opts.invoke('syncPlanner', tenantScheduleEvent(s)).then(
      () => this.opts.logger.info('scheduled tenant sync', { schedule: s.name, ms: Date.now() - started }),
      (err: unknown) => this.opts.logger.error('scheduled tenant sync failed', { schedule: s.name, error: err }),
    );
    this.tenantRuns.add(p);
    void p.finally(() => this.tenantRuns.delete(p));
  }

  private tick(fn: FunctionName): void {
    if (this.stopped) return;
    if (this.running.has(fn)) {
      this.opts.logger.warn('scheduled run skipped: the previous run is still going', { function: fn });
      return;
    }
    void this.run(fn).catch(() => undefined);
  }

  /**
   * Run a scheduled function now, after the run in progress (if any) has finished.
   * @returns the handler's result; rejects with its error.
   */
  async trigger(fn: FunctionName): Promise<unknown> {
    if (!this.opts.schedules.some((s) => s.fn === fn) && !(fn === 'syncPlanner' && this.opts.tenantSchedules?.length)) throw new Error(`"${fn}" has no schedule`);
    if (this.stopped) throw new Error('the scheduler is stopped');
    for (let current = this.running.get(fn); current; current = this.running.get(fn)) await current.catch(() => undefined);
    return this.run(fn);
  }

  private run(fn: FunctionName): Promise<unknown> {
    const started = Date.now();
    const p = this.opts
      .invoke(fn, scheduledEvent(this.opts.stage, fn))
      .then(
        (result) => {
          this.opts.logger.info('scheduled invocation', { function: fn, ms: Date.now() - started });
          return result;
        },
        (err: unknown) => {
          this.opts.logger.error('scheduled invocation failed', { function: fn, ms: Date.now() - started, error: err });
          throw err;
        },
      )
      .finally(() => this.running.delete(fn));
    this.running.set(fn, p);
    return p;
  }

  /** Stop the timers and wait for runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    for (const t of this.tenantTimers) clearInterval(t);
    await Promise.allSettled([...this.running.values(), ...this.tenantRuns]);
  }
}
