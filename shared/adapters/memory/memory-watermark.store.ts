/** In-memory WatermarkStore with the semantics of DynamoWatermarkStore (same contract suite). */
import type { DirectoryObjectType } from '../../domain/directory';
import { MAX_WATERMARK_BYTES, OBJECT_TYPES, SOURCE_KINDS, type SourceKind } from '../../ports/store-common';
import { assertKeyPart, assertOneOf, assertTenant } from '../../ports/store-validation';
import { compareWatermarks, type Watermark, type WatermarkStore } from '../../ports/watermark-store';
import { copy, key, MemoryStore } from './memory-common';

export class MemoryWatermarkStore extends MemoryStore implements WatermarkStore {
  private readonly items = new Map<string, Watermark>();

  async get(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): Promise<Watermark | undefined> {
    check(tenantId, source, objectType);
    const w = this.items.get(key(tenantId, source, objectType));
    return w ? copy(w) : undefined;
  }

  async getAll(tenantId: string, source: SourceKind): Promise<Partial<Record<DirectoryObjectType, Watermark>>> {
    const all: Partial<Record<DirectoryObjectType, Watermark>> = {};
    for (const type of OBJECT_TYPES) {
      const w = await this.get(tenantId, source, type);
      if (w) all[type] = w;
    }
    return all;
  }

  async advance(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, value: string, runId: string): Promise<boolean> {
    check(tenantId, source, objectType);
    assertKeyPart('watermark value', value, MAX_WATERMARK_BYTES);
    assertKeyPart('runId', runId, 128);
    const k = key(tenantId, source, objectType);
    const current = this.items.get(k);
    if (current && compareWatermarks(current.value, value) > 0) return false;
    this.items.set(k, { tenantId, source, objectType, value, updatedAt: this.clock.now(), runId });
    return true;
  }

  async clear(tenantId: string, source: SourceKind, objectType?: DirectoryObjectType): Promise<number> {
    check(tenantId, source, objectType ?? 'person');
    let cleared = 0;
    for (const type of objectType ? [objectType] : OBJECT_TYPES) if (this.items.delete(key(tenantId, source, type))) cleared++;
    return cleared;
  }
}

function check(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): void {
  assertTenant(tenantId);
  assertOneOf('source', source, SOURCE_KINDS);
  assertOneOf('objectType', objectType, OBJECT_TYPES);
}
