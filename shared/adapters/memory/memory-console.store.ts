/** In-memory ConsoleStore with the semantics of DynamoConsoleStore (same contract suite). */
import { assertAudit, assertSession, AUDIT_TTL_SECONDS, type AuditEntry, type ConsoleSession, type ConsoleStore } from '../../ports/console-store';
import type { Page, PageOptions } from '../../ports/store-common';
import { assertPageLimit, expiresAtFor, isExpired } from '../../ports/store-validation';
import { ValidationError } from '../../errors/app-error';
import { MemoryStore } from './memory-common';

export class MemoryConsoleStore extends MemoryStore implements ConsoleStore {
  private readonly sessions = new Map<string, string>();
  private readonly audit = new Map<string, Array<{ json: string; expiresAt: number }>>();

  async putSession(session: ConsoleSession): Promise<void> {
    assertSession(session);
    this.sessions.set(session.idHash, JSON.stringify(session));
  }

  async getSession(idHash: string): Promise<ConsoleSession | undefined> {
    const raw = this.sessions.get(idHash);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as ConsoleSession;
    return s.expiresAt <= this.clock.now() ? undefined : s;
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return this.sessions.delete(idHash);
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    assertAudit(entry);
    const list = this.audit.get(entry.tenantId) ?? [];
    // Same order as the table: by time, ties in arrival order.
    list.push({ json: JSON.stringify(entry), expiresAt: expiresAtFor(entry.at, AUDIT_TTL_SECONDS) });
    list.sort((a, b) => (JSON.parse(a.json) as AuditEntry).at - (JSON.parse(b.json) as AuditEntry).at);
    this.audit.set(entry.tenantId, list);
  }

  async listAudit(tenantId: string, options: PageOptions = {}): Promise<Page<AuditEntry>> {
    const limit = assertPageLimit(options.limit);
    const now = this.clock.now();
    const all = [...(this.audit.get(tenantId) ?? [])].reverse().filter((x) => !isExpired(x.expiresAt, now));
    let start = 0;
    if (options.cursor !== undefined) {
      start = Number(Buffer.from(options.cursor, 'base64url').toString('utf8').replace(/^audit:/, ''));
      if (!Number.isInteger(start) || start < 0) throw new ValidationError('invalid or foreign page cursor', { code: 'STATE.BAD_CURSOR' });
    }
    const items = all.slice(start, start + limit).map((x) => JSON.parse(x.json) as AuditEntry);
    const next = start + limit;
    return next < all.length ? { items, cursor: Buffer.from(`audit:${next}`).toString('base64url') } : { items };
  }
}
