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
import { DynamoStore, fromItem, Expr, toPage, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

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
    const page = await this.table.queryPage(
      'mapping list',
      pk,
      { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ConsistentRead: true },
      assertPageLimit(options.limit),
      options.cursor,
    );
    return toPage(page, toRecord);
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
    const condition = expectationCondition(e, options.expected);
    const res = await this.table.write<UpdateCommandOutput>(
      'mapping put',
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.mapping(write.tenantId, write.source, write.objectType, write.sourceId),
        UpdateExpression: update,
        ConditionExpression: condition,
        ReturnValues: 'ALL_NEW',
        ...e.attrs(),
      }),
    );
    if (!res.ok) throw conflict(write, options.expected);
    return toRecord(res.out.Attributes ?? {});
  }

  async delete(key: MappingKey, options: { expected?: MappingExpectation } = {}): Promise<boolean> {
    assertMappingKey(key);
    assertExpectation(options.expected);
    const e = new Expr();
    const condition = expectationCondition(e, options.expected);
    const res = await this.table.write<DeleteCommandOutput>(
      'mapping delete',
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: keys.mapping(key.tenantId, key.source, key.objectType, key.sourceId),
        ConditionExpression: condition,
        ReturnValues: 'ALL_OLD',
        ...e.attrs(),
      }),
    );
    if (!res.ok) throw conflict(key, options.expected);
    return res.out.Attributes !== undefined;
  }

  private partition(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): string {
    assertTenant(tenantId);
    assertOneOf('source', source, SOURCE_KINDS);
    assertOneOf('objectType', objectType, OBJECT_TYPES);
    return keys.mappingPartition(tenantId, source, objectType);
  }
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
