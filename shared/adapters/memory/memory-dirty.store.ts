/** In-memory DirtyStore with the semantics of DynamoDirtyStore (same behaviour tests). */
import { assertDirtyKey, assertDirtyLimit, assertDirtyMarks, newDirtyVersion, type DirtyEntry, type DirtyMark, type DirtyStore } from '../../ports/dirty-store';
import type { SourceKind } from '../../ports/store-common';
import { expiresAtFor, isExpired } from '../../ports/store-validation';
import { copy, key, MemoryStore, Partitions } from './memory-common';

export class MemoryDirtyStore extends MemoryStore implements DirtyStore {
  private readonly parts = new Partitions<DirtyEntry>();

  async mark(tenantId: string, source: SourceKind, marks: readonly DirtyMark[], options: { ttlSeconds?: number } = {}): Promise<void> {
    const ttl = assertDirtyMarks(tenantId, source, marks, options);
    const part = this.parts.for(key(tenantId, source));
    for (const m of marks) {
      const now = this.clock.now();
      const k = key(m.kind, m.id);
      const stored = part.get(k);
      // Like DynamoDB's if_not_exists: an expired item still on disk keeps its dirtiedAt.
      const entry: DirtyEntry = {
        tenantId,
        source,
        kind: m.kind,
        id: m.id,
        version: newDirtyVersion(now),
        dirtiedAt: stored?.dirtiedAt ?? now,
        updatedAt: now,
        expiresAt: expiresAtFor(now, ttl),
      };
      const newId = m.newId ?? stored?.newId;
      if (newId !== undefined) entry.newId = newId;
      part.set(k, entry);
    }
  }

  async list(tenantId: string, source: SourceKind, options: { limit?: number } = {}): Promise<DirtyEntry[]> {
    assertDirtyMarks(tenantId, source, []);
    const limit = assertDirtyLimit(options.limit);
    const part = this.parts.get(key(tenantId, source));
    if (!part) return [];
    const now = this.clock.now();
    const out: DirtyEntry[] = [];
    for (const k of part.keys()) {
      const e = part.get(k);
      if (!e || isExpired(e.expiresAt, now)) continue;
      out.push(copy(e));
      if (out.length >= limit) break;
    }
    return out;
  }

  async clear(tenantId: string, source: SourceKind, entry: Pick<DirtyEntry, 'kind' | 'id' | 'version'>): Promise<boolean> {
    assertDirtyKey(tenantId, source, entry);
    const part = this.parts.get(key(tenantId, source));
    const k = key(entry.kind, entry.id);
    const stored = part?.get(k);
    if (!part || !stored || stored.version !== entry.version) return false;
    // A conditional delete on the version alone, like the Dynamo adapter (expiry is not checked).
    return part.delete(k);
  }
}
