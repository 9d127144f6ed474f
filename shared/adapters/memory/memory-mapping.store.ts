/** In-memory MappingStore with the semantics of DynamoMappingStore (same contract suite). */
import type { DirectoryObjectType } from '../../domain/directory';
import { mappingWriteFields, type MappingExpectation, type MappingKey, type MappingRecord, type MappingSnapshot, type MappingStore, type MappingWrite } from '../../ports/mapping-store';
import { ConflictError, OBJECT_TYPES, SOURCE_KINDS, type Page, type PageOptions, type SourceKind } from '../../ports/store-common';
import { assertExpectation, assertKeyPart, assertMappingKey, assertMappingWrite, assertOneOf, assertPageLimit, assertTenant, neteaseLookupId } from '../../ports/store-validation';
import { allPages, copy, key, MemoryStore, Partitions, SortedPartition } from './memory-common';

export class MemoryMappingStore extends MemoryStore implements MappingStore {
  private readonly partitions = new Partitions<MappingRecord>();
  /** key(tenant, type, lookupId) -> key(source, sourceId) of every mapping pointing there. */
  private readonly reverse = new Map<string, Set<string>>();

  async get(k: MappingKey): Promise<MappingRecord | undefined> {
    assertMappingKey(k);
    const r = this.partitions.get(partitionOf(k.tenantId, k.source, k.objectType))?.get(k.sourceId);
    return r ? copy(r) : undefined;
  }

  async findByNeteaseId(tenantId: string, objectType: DirectoryObjectType, neteaseId: string, source?: SourceKind): Promise<MappingRecord[]> {
    assertTenant(tenantId);
    assertOneOf('objectType', objectType, OBJECT_TYPES);
    assertKeyPart('neteaseId', neteaseId);
    if (source !== undefined) assertOneOf('source', source, SOURCE_KINDS);
    const refs = this.reverse.get(key(tenantId, objectType, neteaseLookupId(objectType, neteaseId))) ?? new Set<string>();
    const found: MappingRecord[] = [];
    for (const ref of [...refs].sort()) {
      const [src, sourceId] = JSON.parse(ref) as [SourceKind, string];
      if (source !== undefined && src !== source) continue;
      const r = this.partitions.get(partitionOf(tenantId, src, objectType))?.get(sourceId);
      if (r) found.push(copy(r));
    }
    return found;
  }

  async listPage(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options: PageOptions = {}): Promise<Page<MappingRecord>> {
    const name = this.partitionName(tenantId, source, objectType);
    const limit = assertPageLimit(options.limit);
    // An empty partition still validates the cursor.
    return (this.partitions.get(name) ?? new SortedPartition<MappingRecord>()).page(name, limit, options.cursor, copy);
  }

  list(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options: { pageSize?: number } = {}): AsyncIterable<MappingRecord> {
    const limit = assertPageLimit(options.pageSize);
    return allPages((cursor) => this.listPage(tenantId, source, objectType, { limit, cursor }));
  }

  async loadAll(tenantId: string, source: SourceKind): Promise<MappingSnapshot> {
    const load = (type: DirectoryObjectType) => {
      const map = new Map<string, MappingRecord>();
      const part = this.partitions.get(this.partitionName(tenantId, source, type));
      for (const r of part?.values() ?? []) map.set(r.sourceId, copy(r));
      return map;
    };
    return { department: load('department'), person: load('person') };
  }

  async put(write: MappingWrite, options: { expected?: MappingExpectation } = {}): Promise<MappingRecord> {
    assertMappingWrite(write);
    assertExpectation(options.expected);
    const part = this.partitions.for(partitionOf(write.tenantId, write.source, write.objectType));
    const previous = part.get(write.sourceId);
    if (!matches(previous, options.expected)) throw conflict(write, options.expected);
    const record: MappingRecord = copy({
      ...mappingWriteFields(write),
      version: (previous?.version ?? 0) + 1,
      updatedAt: this.clock.now(),
    });
    if (previous) this.unindex(previous);
    part.set(write.sourceId, record);
    this.index(record);
    return copy(record);
  }

  async delete(k: MappingKey, options: { expected?: MappingExpectation } = {}): Promise<boolean> {
    assertMappingKey(k);
    assertExpectation(options.expected);
    const part = this.partitions.get(partitionOf(k.tenantId, k.source, k.objectType));
    const previous = part?.get(k.sourceId);
    if (!matches(previous, options.expected)) throw conflict(k, options.expected);
    if (!previous || !part) return false;
    part.delete(k.sourceId);
    this.unindex(previous);
    return true;
  }

  private partitionName(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): string {
    assertTenant(tenantId);
    assertOneOf('source', source, SOURCE_KINDS);
    assertOneOf('objectType', objectType, OBJECT_TYPES);
    return partitionOf(tenantId, source, objectType);
  }

  private index(r: MappingRecord): void {
    const rk = key(r.tenantId, r.objectType, neteaseLookupId(r.objectType, r.neteaseId));
    let set = this.reverse.get(rk);
    if (!set) this.reverse.set(rk, (set = new Set()));
    set.add(key(r.source, r.sourceId));
  }

  private unindex(r: MappingRecord): void {
    const rk = key(r.tenantId, r.objectType, neteaseLookupId(r.objectType, r.neteaseId));
    const set = this.reverse.get(rk);
    set?.delete(key(r.source, r.sourceId));
    if (set?.size === 0) this.reverse.delete(rk);
  }
}

function partitionOf(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): string {
  return key('MAP', tenantId, source, objectType);
}

/** The same rule as DynamoMappingStore's condition: version 0 = absent; every given field matches. */
function matches(previous: MappingRecord | undefined, expected: MappingExpectation | undefined): boolean {
  if (!expected) return true;
  if (expected.version === 0 && previous) return false;
  if (expected.version !== undefined && expected.version !== 0 && previous?.version !== expected.version) return false;
  if (expected.contentHash !== undefined && previous?.contentHash !== expected.contentHash) return false;
  return true;
}

function conflict(k: MappingKey, expected: MappingExpectation | undefined): ConflictError {
  return new ConflictError(`mapping ${k.source}/${k.objectType}/${k.sourceId} of tenant ${k.tenantId} changed since it was read`, {
    code: 'STATE.MAPPING_CONFLICT',
    details: { tenantId: k.tenantId, source: k.source, objectType: k.objectType, sourceId: k.sourceId, expected },
  });
}
