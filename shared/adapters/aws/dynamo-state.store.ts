/**
 * Every state store on one table, for a function's wiring:
 * `createDynamoStateStores(createDocumentClient(), env.TABLE_NAME)`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../ports/clock';
import type { StateStores } from '../../ports/state-stores';
import { DynamoCacheStore } from './dynamo-cache.store';
import { DynamoLockStore } from './dynamo-lock.store';
import { DynamoMappingStore } from './dynamo-mapping.store';
import { DynamoOnceStore } from './dynamo-once.store';
import { DynamoPlanStore } from './dynamo-plan.store';
import { DynamoRunStore } from './dynamo-run.store';
import { DynamoWatermarkStore } from './dynamo-watermark.store';

export function createDynamoStateStores(client: DynamoDBDocumentClient, tableName: string, options: { clock?: Clock } = {}): StateStores {
  return {
    mappings: new DynamoMappingStore(client, tableName, options),
    watermarks: new DynamoWatermarkStore(client, tableName, options),
    runs: new DynamoRunStore(client, tableName, options),
    locks: new DynamoLockStore(client, tableName, options),
    once: new DynamoOnceStore(client, tableName, options),
    cache: new DynamoCacheStore(client, tableName, options),
    plans: new DynamoPlanStore(client, tableName, options),
  };
}
