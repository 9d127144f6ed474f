/**
 * MappingStore on the single table. Keys: table-keys.ts (mapping rows).
 *
 * Forward reads are strongly consistent Gets / Queries on `T#{t}#MAP#{source}#{type}`
 * (one partition per tenant, source and type, sk = source id: 100,000 people are ~25
 * one-MB pages). Reverse reads go through gsi1 (`T#{t}#NE#{type}`, sk starting with the
 * NetEase id) and are eventually consistent, as every GSI read is.
 *
 * `put` is an UpdateItem that SETs the whole record and ADDs 1 to `version`, so even an
 * unconditional put bumps the version atomically; `expected` adds the condition that
 * gives optimistic concurrency.
 */
import { DeleteCommand, GetCommand, UpdateCommand, type DeleteCommandOutput, type GetCommandOutput, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DirectoryObjectType } from '../../domain/directory';
import { mappingWriteFields, type MappingExpectation, type MappingKey, type MappingRecord, type MappingSnapshot, type MappingStore, type MappingWrite } from '../../ports/mapping-store';
import { ConflictError, OBJECT_TYPES, SOURCE_KINDS, type Page, type PageOptions, type SourceKind } from '../../ports/store-common';
import { assertExpectation, assertMappingKey, assertMappingWrite, assertOneOf, assertPageLimit, assertTenant, neteaseLookupId } from '../../ports/store-validation';
import { assertKeyPart } from '../../ports/store-validation';
import { DynamoStore, fromItem, Expr, type Item } from './dynamo-base.store';
import { keys, type ItemKey } from './table-keys';

export class DynamoMappingStore extends DynamoStore implements MappingStore {
  async get(key: MappingKey): Promise<MappingRecord | undefined> {
    assertMappingKey(key);
    const out = await this.table.send<GetCommandOutput>(
      'mapping get',
      new GetCommand({ TableName: this.table.tableName, Key: keys.mapping(key.tenantId, key.source, key.objectType, key.sourceId), ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async findByNeteaseId(tenantId: string, objectType: DirectoryObjectType, neteaseId: string, source?: SourceKind): Promise<MappingRecord[]> {
    assertTenant(tenantId);
    assertOneOf('objectType', objectType, OBJECT_TYPES);
    assertKeyPart('neteaseId', neteaseId);
    if (source !== undefined) assertOneOf('source', source, SOURCE_KINDS);
    const found: MappingRecord[] = [];
    for await (const item of this.table.queryAll('mapping findByNeteaseId', {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :s)',
      ExpressionAttributeValues: {
        ':p': keys.mappingReversePartition(tenantId, objectType),
        ':s': keys.mappingReversePrefix(neteaseLookupId(objectType, neteaseId), source),
      },
    })) {
      found.push(toRecord(item));
    }
    return found;
  }

  async listPage(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options: PageOptions = {}): Promise<Page<MappingRecord>> {
    const pk = this.partition(tenantId, source, objectType);
    return this.table.partitionPage('mapping list', pk, options, toRecord, { consistentRead: true });
  }

  async *list(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, options: { pageSize?: number } = {}): AsyncIterable<MappingRecord> {
    const pk = this.partition(tenantId, source, objectType);
    const pageSize = options.pageSize === undefined ? undefined : assertPageLimit(options.pageSize);
    for await (const item of this.table.queryAll('mapping list', { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ConsistentRead: true }, pageSize)) {
      yield toRecord(item);
    }
  }

  async loadAll(tenantId: string, source: SourceKind, options: { pageSize?: number } = {}): Promise<MappingSnapshot> {
    const load = async (type: DirectoryObjectType) => {
      const map = new Map<string, MappingRecord>();
      for await (const r of this.list(tenantId, source, type, options)) map.set(r.sourceId, r);
      return map;
    };
    // The two partitions are independent: read them in parallel.
    const [department, person] = await Promise.all([load('department'), load('person')]);
    return { department, person };
  }

  async put(write: MappingWrite, options: { expected?: MappingExpectation } = {}): Promise<MappingRecord> {
    assertMappingWrite(write);
    assertExpectation(options.expected);
    const now = this.table.clock.now();
    const e = new Expr();
    const update = e.update(
      {
        ...mappingWriteFields(write),
        updatedAt: now,
        gsi1pk: keys.mappingReversePartition(write.tenantId, write.objectType),
        gsi1sk: keys.mappingReverseSort(neteaseLookupId(write.objectType, write.neteaseId), write.source, write.sourceId),
      },
      { version: 1 },
    );
    const out = await this.writeExpecting<UpdateCommandOutput>('mapping put', write, options.expected, e, (input) => new UpdateCommand({ ...input, UpdateExpression: update, ReturnValues: 'ALL_NEW' }));
    return toRecord(out.Attributes ?? {});
  }

  async delete(key: MappingKey, options: { expected?: MappingExpectation } = {}): Promise<boolean> {
    assertMappingKey(key);
    assertExpectation(options.expected);
    const out = await this.writeExpecting<DeleteCommandOutput>('mapping delete', key, options.expected, new Expr(), (input) => new DeleteCommand({ ...input, ReturnValues: 'ALL_OLD' }));
    return out.Attributes !== undefined;
  }

  /**
   * A write of one mapping that holds only while the row matches `expected` (see
   * expectationCondition; none: unconditional). `command` builds the write from the table,
   * key and condition; ConflictError when the row changed since it was read.
   */
  private async writeExpecting<O>(what: string, key: MappingKey, expected: MappingExpectation | undefined, e: Expr, command: (input: WriteInput) => { readonly input: object }): Promise<O> {
    const condition = expectationCondition(e, expected);
    const input = { TableName: this.table.tableName, Key: keys.mapping(key.tenantId, key.source, key.objectType, key.sourceId), ConditionExpression: condition, ...e.attrs() };
    const res = await this.table.write<O>(what, command(input));
    if (!res.ok) throw conflict(key, expected);
    return res.out;
  }

  private partition(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): string {
    assertTenant(tenantId);
    assertOneOf('source', source, SOURCE_KINDS);
    assertOneOf('objectType', objectType, OBJECT_TYPES);
    return keys.mappingPartition(tenantId, source, objectType);
  }
}

/** What every conditional mapping write carries. */
interface WriteInput {
  TableName: string;
  Key: ItemKey;
  ConditionExpression: string | undefined;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** The optimistic-concurrency condition: version 0 = absent; otherwise every given field matches. */
function expectationCondition(e: Expr, expected: MappingExpectation | undefined): string | undefined {
  if (!expected) return undefined;
  const parts: string[] = [];
  if (expected.version === 0) parts.push('attribute_not_exists(pk)');
  else if (expected.version !== undefined) parts.push(`${e.name('version')} = ${e.value(expected.version)}`);
  if (expected.contentHash !== undefined) parts.push(`${e.name('contentHash')} = ${e.value(expected.contentHash)}`);
  return parts.length ? parts.join(' AND ') : undefined;
}

function conflict(key: MappingKey, expected: MappingExpectation | undefined): ConflictError {
  return new ConflictError(`mapping ${key.source}/${key.objectType}/${key.sourceId} of tenant ${key.tenantId} changed since it was read`, {
    code: 'STATE.MAPPING_CONFLICT',
    details: { tenantId: key.tenantId, source: key.source, objectType: key.objectType, sourceId: key.sourceId, expected },
  });
}

function toRecord(item: Item): MappingRecord {
  return fromItem<MappingRecord>(
    item,
    ['tenantId', 'source', 'objectType', 'sourceId', 'neteaseId', 'contentHash', 'status', 'lastRunId', 'version', 'updatedAt'],
    ['suspendedAt', 'adopted', 'meta'],
  );
}
