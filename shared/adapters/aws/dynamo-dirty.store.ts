/**
 * DirtyStore on the single table (table-definition.ts). Key builders live here, beside the
 * items they describe, following table-keys.ts's conventions: ids go through `esc()`, fixed
 * words are not escaped, tenants are `T#{t}`.
 *
 * | item         | pk                         | sk                 | expiresAt            |
 * |--------------|----------------------------|--------------------|----------------------|
 * | dirty object | T#{t}#DIRTY#{source}       | {type}#{sourceId}  | last mark + 3 days   |
 *
 * One partition per tenant and source: the callback worker reads a tenant's whole backlog
 * with one Query, and a tenant that switches source never applies the old source's ids.
 * Marks are single-item UpdateItems (version bumped, `dirtiedAt` kept with if_not_exists),
 * clears are DeleteItems conditional on the version read, so an object marked again while a
 * run was re-reading it stays dirty. A burst of one large DingTalk event (500 ids) is 500
 * small writes to one partition key, far below DynamoDB's per-partition 1,000 writes/s; a
 * throttle surfaces as a retryable StateStoreError and the queue record is retried.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { assertDirtyKey, assertDirtyLimit, assertDirtyMarks, newDirtyVersion, type DirtyEntry, type DirtyMark, type DirtyStore } from '../../ports/dirty-store';
import type { SourceKind } from '../../ports/store-common';
import { expiresAtFor, isExpired, nowSeconds } from '../../ports/store-validation';
import type { DirectoryObjectType } from '../../domain/directory';
import { DynamoStore, type Item } from './dynamo-base.store';
import { esc, type ItemKey } from './table-keys';

/** Key builders of the dirty items (see the table above). */
export const dirtyKeys = {
  partition: (tenantId: string, source: SourceKind) => `T#${esc(tenantId)}#DIRTY#${source}`,
  entry: (tenantId: string, source: SourceKind, kind: DirectoryObjectType, id: string): ItemKey => ({ pk: dirtyKeys.partition(tenantId, source), sk: `${kind}#${esc(id)}` }),
};

/** Marks written at once (one message names at most 500 ids). */
const MARK_CONCURRENCY = 8;

export class DynamoDirtyStore extends DynamoStore implements DirtyStore {
  async mark(tenantId: string, source: SourceKind, marks: readonly DirtyMark[], options: { ttlSeconds?: number } = {}): Promise<void> {
    const ttl = assertDirtyMarks(tenantId, source, marks, options);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < marks.length) {
        const m = marks[next++] as DirtyMark;
        const now = this.table.clock.now();
        const values: Record<string, unknown> = {
          ':t': tenantId,
          ':s': source,
          ':k': m.kind,
          ':id': m.id,
          ':v': newDirtyVersion(now),
          ':now': now,
          ':exp': expiresAtFor(now, ttl),
        };
        let set = '#tenantId = :t, #source = :s, #kind = :k, #id = :id, #version = :v, #updatedAt = :now, #expiresAt = :exp, #dirtiedAt = if_not_exists(#dirtiedAt, :now)';
        const names: Record<string, string> = {
          '#tenantId': 'tenantId',
          '#source': 'source',
          '#kind': 'kind',
          '#id': 'id',
          '#version': 'version',
          '#updatedAt': 'updatedAt',
          '#expiresAt': 'expiresAt',
          '#dirtiedAt': 'dirtiedAt',
        };
        if (m.newId !== undefined) {
          set += ', #newId = :n';
          names['#newId'] = 'newId';
          values[':n'] = m.newId;
        }
        await this.table.send(
          'dirty mark',
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: dirtyKeys.entry(tenantId, source, m.kind, m.id),
            UpdateExpression: `SET ${set}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(MARK_CONCURRENCY, marks.length) }, worker));
  }

  async list(tenantId: string, source: SourceKind, options: { limit?: number } = {}): Promise<DirtyEntry[]> {
    assertDirtyMarks(tenantId, source, []);
    const limit = assertDirtyLimit(options.limit);
    const now = this.table.clock.now();
    const out: DirtyEntry[] = [];
    const items = this.table.queryAll('dirty list', {
      KeyConditionExpression: 'pk = :p',
      // Expired items are skipped by the filter (dynalite and AWS TTL leave them for a while).
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':p': dirtyKeys.partition(tenantId, source), ':now': nowSeconds(now) },
      ConsistentRead: true,
    });
    for await (const item of items) {
      const e = toEntry(item);
      if (!e || isExpired(e.expiresAt, now)) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  async clear(tenantId: string, source: SourceKind, entry: Pick<DirtyEntry, 'kind' | 'id' | 'version'>): Promise<boolean> {
    assertDirtyKey(tenantId, source, entry);
    const res = await this.table.write(
      'dirty clear',
      new DeleteCommand({
        TableName: this.table.tableName,
        Key: dirtyKeys.entry(tenantId, source, entry.kind, entry.id),
        ConditionExpression: '#version = :v',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':v': entry.version },
      }),
    );
    return res.ok;
  }
}

function toEntry(item: Item): DirtyEntry | undefined {
  const { tenantId, source, kind, id, version, dirtiedAt, updatedAt, expiresAt, newId } = item;
  if (typeof tenantId !== 'string' || typeof id !== 'string' || typeof version !== 'string' || (kind !== 'person' && kind !== 'department')) return undefined;
  const e: DirtyEntry = {
    tenantId,
    source: source as SourceKind,
    kind,
    id,
    version,
    dirtiedAt: typeof dirtiedAt === 'number' ? dirtiedAt : 0,
    updatedAt: typeof updatedAt === 'number' ? updatedAt : 0,
    expiresAt: typeof expiresAt === 'number' ? expiresAt : 0,
  };
  if (typeof newId === 'string') e.newId = newId;
  return e;
}
