/**
 * A CallMeter that sums calls in memory and writes them to the UsageStore in batches: one
 * atomic ADD per tenant, vendor, API and month per flush, never one write per call.
 *
 * A flush starts by itself when `flushEvery` calls are pending or the oldest pending call
 * is `maxAgeMs` old (checked as calls arrive), and handlers call `flush()` before they
 * return (a Lambda is frozen after that, and a timer would not fire). A failed write keeps
 * the counts for the next flush and logs a warning: counting never fails a vendor call.
 *
 * A quota refusal (DingTalk 90020) is recorded at once as the month's named state
 * (UsageStore.markExhausted, with the quota configured at that moment) and logged as an
 * error once per process and month.
 */
import type { Clock } from '../../ports/clock';
import type { Logger } from '../../logging/logger';
import { usageMonth, type CallMeter, type MeteredCall, type UsageIncrement, type UsageStore, type UsageVendor } from '../../ports/usage-meter';
import { quotaSpentMessage } from './usage-report';

export interface BufferedMeterOptions {
  store: UsageStore;
  clock: Clock;
  logger: Logger;
  /** The configured monthly quota of a tenant's vendor (0 = unlimited). */
  quotaOf(tenantId: string, vendor: UsageVendor): number;
  /** Pending calls that start a flush (default 200). */
  flushEvery?: number;
  /** Age of the oldest pending call that starts a flush (default 30 s). */
  maxAgeMs?: number;
}

export class BufferedUsageMeter implements CallMeter {
  private pending = new Map<string, UsageIncrement>();
  private pendingCalls = 0;
  private oldest: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly announced = new Set<string>();

  constructor(private readonly opts: BufferedMeterOptions) {}

  record(call: MeteredCall): void {
    const now = this.opts.clock.now();
    const month = usageMonth(now);
    const key = JSON.stringify([call.tenantId, month, call.vendor, call.api]);
    const p = this.pending.get(key);
    if (p) p.calls++;
    else this.pending.set(key, { tenantId: call.tenantId, vendor: call.vendor, api: call.api, cls: call.cls, month, calls: 1 });
    this.pendingCalls++;
    this.oldest ??= now;
    if (this.pendingCalls >= (this.opts.flushEvery ?? 200) || now - this.oldest >= (this.opts.maxAgeMs ?? 30_000)) void this.flush();
  }

  quotaExhausted(info: { tenantId: string; vendor: UsageVendor; api: string }): void {
    const now = this.opts.clock.now();
    const month = usageMonth(now);
    const x = { vendor: info.vendor, month, at: now, api: info.api, quotaAtExhaustion: this.opts.quotaOf(info.tenantId, info.vendor) };
    this.chain = this.chain.then(async () => {
      try {
        await this.opts.store.markExhausted(info.tenantId, x);
      } catch (err) {
        this.opts.logger.warn('usage: could not record the quota state; the next refusal tries again', { tenant: info.tenantId, vendor: info.vendor, err });
      }
      const k = `${info.tenantId} ${info.vendor} ${month}`;
      if (!this.announced.has(k)) {
        this.announced.add(k);
        this.opts.logger.error(quotaSpentMessage(info.vendor), { tenant: info.tenantId, vendor: info.vendor, api: info.api, month, quota: x.quotaAtExhaustion, code: 'USAGE.QUOTA_SPENT' });
      }
    });
  }

  /** Write every pending count (and wait for a quota state being recorded). Never throws. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  /** Calls counted but not written yet (tests, diagnostics). */
  get unflushed(): number {
    return this.pendingCalls;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.pendingCalls = 0;
    this.oldest = undefined;
    try {
      await this.opts.store.add(batch);
    } catch (err) {
      // Keep them for the next flush: a count is never dropped for a passing store failure.
      for (const i of batch) {
        const key = JSON.stringify([i.tenantId, i.month, i.vendor, i.api]);
        const p = this.pending.get(key);
        if (p) p.calls += i.calls;
        else this.pending.set(key, i);
        this.pendingCalls += i.calls;
      }
      this.oldest ??= this.opts.clock.now();
      this.opts.logger.warn('usage counters not written; kept for the next flush', { counters: batch.length, err });
    }
  }
}
