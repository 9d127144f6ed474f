/**
 * WatermarkStore on the single table: one item per tenant, source and type in the tenant's
 * `T#{t}#WM` partition. The item stores `ord` = watermarkOrderKey(value) next to the value,
 * so "never backwards" is a plain string comparison in the condition.
 */
import { DeleteCommand, GetCommand, PutCommand, type DeleteCommandOutput, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { DirectoryObjectType } from '../../domain/directory';
import { MAX_WATERMARK_BYTES, OBJECT_TYPES, SOURCE_KINDS, type SourceKind } from '../../ports/store-common';
import { assertKeyPart, assertOneOf, assertTenant } from '../../ports/store-validation';
import { watermarkOrderKey, type Watermark, type WatermarkStore } from '../../ports/watermark-store';
import { DynamoStore, fromItem, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

export class DynamoWatermarkStore extends DynamoStore implements WatermarkStore {
  async get(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): Promise<Watermark | undefined> {
    check(tenantId, source, objectType);
    const out = await this.table.send<GetCommandOutput>(
      'watermark get',
      new GetCommand({ TableName: this.table.tableName, Key: keys.watermark(tenantId, source, objectType), ConsistentRead: true }),
    );
    return out.Item ? toWatermark(out.Item) : undefined;
  }

  async getAll(tenantId: string, source: SourceKind): Promise<Partial<Record<DirectoryObjectType, Watermark>>> {
    const [department, person] = await Promise.all([this.get(tenantId, source, 'department'), this.get(tenantId, source, 'person')]);
    const all: Partial<Record<DirectoryObjectType, Watermark>> = {};
    if (department) all.department = department;
    if (person) all.person = person;
    return all;
  }

  async advance(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, value: string, runId: string): Promise<boolean> {
    check(tenantId, source, objectType);
    assertKeyPart('watermark value', value, MAX_WATERMARK_BYTES);
    assertKeyPart('runId', runId, 128);
    const res = await this.table.write(
      'watermark advance',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.watermark(tenantId, source, objectType), tenantId, source, objectType, value, ord: watermarkOrderKey(value), updatedAt: this.table.clock.now(), runId },
        // Forward or equal only; equal refreshes runId/updatedAt harmlessly.
        ConditionExpression: 'attribute_not_exists(pk) OR #ord <= :ord',
        ExpressionAttributeNames: { '#ord': 'ord' },
        ExpressionAttributeValues: { ':ord': watermarkOrderKey(value) },
      }),
    );
    return res.ok;
  }

  async clear(tenantId: string, source: SourceKind, objectType?: DirectoryObjectType): Promise<number> {
    check(tenantId, source, objectType ?? 'person');
    const types = objectType ? [objectType] : OBJECT_TYPES;
    let cleared = 0;
    for (const type of types) {
      const out = await this.table.send<DeleteCommandOutput>(
        'watermark clear',
        new DeleteCommand({ TableName: this.table.tableName, Key: keys.watermark(tenantId, source, type), ReturnValues: 'ALL_OLD' }),
      );
      if (out.Attributes) cleared++;
    }
    return cleared;
  }
}

function check(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): void {
  assertTenant(tenantId);
  assertOneOf('source', source, SOURCE_KINDS);
  assertOneOf('objectType', objectType, OBJECT_TYPES);
}

function toWatermark(item: Item): Watermark {
  return fromItem<Watermark>(item, ['tenantId', 'source', 'objectType', 'value', 'updatedAt', 'runId']);
}
