/** In-memory UsageStore (tests, benchmarks): the DynamoDB store's behaviour without a table. */
import { assertIncrement, assertMonth, type QuotaExhaustion, type UsageCounter, type UsageIncrement, type UsageStore, type UsageVendor } from '../../ports/usage-meter';

export class MemoryUsageStore implements UsageStore {
  private readonly counts = new Map<string, UsageCounter>();
  private readonly exhausted = new Map<string, QuotaExhaustion>();
  /** add() calls (tests check that counting is batched). */
  writes = 0;

  async add(increments: readonly UsageIncrement[]): Promise<void> {
    increments.forEach(assertIncrement);
    for (const i of increments) {
      this.writes++;
      const k = JSON.stringify([i.tenantId, i.month, i.vendor, i.api]);
      const c = this.counts.get(k) ?? { vendor: i.vendor, api: i.api, cls: i.cls, calls: 0 };
      this.counts.set(k, { ...c, cls: i.cls, calls: c.calls + i.calls });
    }
  }

  async counters(tenantId: string, month: string): Promise<UsageCounter[]> {
    assertMonth(month);
    const out: UsageCounter[] = [];
    for (const [k, c] of this.counts) {
      const [t, m] = JSON.parse(k) as [string, string];
      if (t === tenantId && m === month) out.push({ ...c });
    }
    return out.sort((a, b) => `${a.vendor}#${a.api}`.localeCompare(`${b.vendor}#${b.api}`));
  }

  async markExhausted(tenantId: string, x: QuotaExhaustion): Promise<boolean> {
    assertMonth(x.month);
    const k = JSON.stringify([tenantId, x.month, x.vendor]);
    if (this.exhausted.has(k)) return false;
    this.exhausted.set(k, { ...x });
    return true;
  }

  async exhaustion(tenantId: string, vendor: UsageVendor, month: string): Promise<QuotaExhaustion | undefined> {
    assertMonth(month);
    const x = this.exhausted.get(JSON.stringify([tenantId, month, vendor]));
    return x ? { ...x } : undefined;
  }

  async clearExhausted(tenantId: string, vendor: UsageVendor, month: string): Promise<void> {
    this.exhausted.delete(JSON.stringify([tenantId, month, vendor]));
  }
}
