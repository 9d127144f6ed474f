/** In-memory NotifyStore with the semantics of DynamoNotifyStore (same contract tests). */
import { assertOptInKey, assertWatermarkWrite, watermarkAccount, type MailWatermark, type MailWatermarkWrite, type NotifyOptIn, type NotifyStore } from '../../ports/notify-store';
import type { SourceKind } from '../../ports/store-common';
import { assertPageLimit, assertTenant } from '../../ports/store-validation';
import { copy, key, MemoryStore } from './memory-common';

export class MemoryNotifyStore extends MemoryStore implements NotifyStore {
  private readonly watermarks = new Map<string, MailWatermark>();
  private readonly optIns = new Map<string, NotifyOptIn>();

  async getWatermarks(tenantId: string, accounts: readonly string[]): Promise<Map<string, MailWatermark>> {
    assertTenant(tenantId);
    const wanted = accounts.map(watermarkAccount);
    const out = new Map<string, MailWatermark>();
    for (const a of wanted) {
      const w = this.watermarks.get(key(tenantId, a));
      if (w) out.set(a, copy(w));
    }
    return out;
  }

  async putWatermark(write: MailWatermarkWrite): Promise<boolean> {
    assertWatermarkWrite(write);
    const account = watermarkAccount(write.account);
    const k = key(write.tenantId, account);
    const stored = this.watermarks.get(k);
    if (stored && stored.until > write.until) return false;
    this.watermarks.set(k, copy({ ...write, account, updatedAt: this.clock.now() }));
    return true;
  }

  async setOptIn(tenantId: string, source: SourceKind, sourceId: string, optedIn: boolean, by?: string): Promise<void> {
    assertOptInKey(tenantId, source, sourceId);
    const k = key(tenantId, source, sourceId);
    if (!optedIn) {
      this.optIns.delete(k);
      return;
    }
    if (this.optIns.has(k)) return;
    this.optIns.set(k, copy({ tenantId, source, sourceId, at: this.clock.now(), ...(by ? { by } : {}) }));
  }

  async *listOptIns(tenantId: string, source: SourceKind, options: { pageSize?: number } = {}): AsyncIterable<NotifyOptIn> {
    assertOptInKey(tenantId, source, 'x');
    assertPageLimit(options.pageSize);
    const mine = [...this.optIns.values()].filter((o) => o.tenantId === tenantId && o.source === source).sort((a, b) => (a.sourceId < b.sourceId ? -1 : 1));
    for (const o of mine) yield copy(o);
  }
}
