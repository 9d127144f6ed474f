/**
 * NotifyStore on the single table (table-definition.ts). Key builders live here, beside
 * the items they describe, following table-keys.ts's conventions: ids go through `esc()`,
 * fixed words are not escaped, tenants are `T#{t}`.
 *
 * | item              | pk                                   | sk            | expiresAt |
 * |-------------------|--------------------------------------|---------------|-----------|
 * | mail watermark    | T#{t}#NOTIFY#WM#{account, lower-case} | WM            | -         |
 * | notify opt-in     | T#{t}#NOTIFY#OPTIN#{source}          | {sourceId}    | -         |
 *
 * Why one partition per mailbox for watermarks: every poll (every 2 minutes) may write the
 * watermark of every notified person; in one partition per tenant a 100,000-person
 * tenant would need ~800 writes/s on a single partition key, beyond DynamoDB's per-key
 * limit. Watermarks are never listed, only fetched by account (BatchGetItem), so nothing is
 * lost by spreading them. Opt-ins are few and listed by the planner: one partition per
 * tenant and source, read with one Query.
 */
import { BatchGetCommand, DeleteCommand, PutCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { assertOptInKey, assertWatermarkWrite, watermarkAccount, type MailWatermark, type MailWatermarkWrite, type NotifyOptIn, type NotifyStore } from '../../ports/notify-store';
import { StateStoreError, type SourceKind } from '../../ports/store-common';
import { assertPageLimit, assertTenant } from '../../ports/store-validation';
import { DynamoStore, type Item } from './dynamo-base.store';
import { esc, type ItemKey } from './table-keys';

/** Key builders of the notify items (see the table above). */
export const notifyKeys = {
  watermark: (tenantId: string, account: string): ItemKey => ({ pk: `T#${esc(tenantId)}#NOTIFY#WM#${esc(account.toLowerCase())}`, sk: 'WM' }),
  optInPartition: (tenantId: string, source: SourceKind) => `T#${esc(tenantId)}#NOTIFY#OPTIN#${source}`,
  optIn: (tenantId: string, source: SourceKind, sourceId: string): ItemKey => ({ pk: notifyKeys.optInPartition(tenantId, source), sk: esc(sourceId) }),
};

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;
/** Rounds for UnprocessedKeys (throttled reads) before giving up retryably. */
const UNPROCESSED_ROUNDS = 5;

export class DynamoNotifyStore extends DynamoStore implements NotifyStore {
  async getWatermarks(tenantId: string, accounts: readonly string[]): Promise<Map<string, MailWatermark>> {
    assertTenant(tenantId);
    const wanted = [...new Set(accounts.map(watermarkAccount))];
    const out = new Map<string, MailWatermark>();
    for (let i = 0; i < wanted.length; i += BATCH_GET_MAX) {
      let keysLeft: Array<Record<string, unknown>> = wanted.slice(i, i + BATCH_GET_MAX).map((a) => ({ ...notifyKeys.watermark(tenantId, a) }));
      for (let round = 0; keysLeft.length > 0; round++) {
        if (round >= UNPROCESSED_ROUNDS) {
          throw new StateStoreError('STATE.UNAVAILABLE', `DynamoDB notify watermark read: ${keysLeft.length} keys still unprocessed after ${UNPROCESSED_ROUNDS} rounds`, { retryable: true });
        }
        if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
        const res: BatchGetCommandOutput = await this.table.send<BatchGetCommandOutput>(
          'notify watermark read',
          new BatchGetCommand({ RequestItems: { [this.table.tableName]: { Keys: keysLeft, ConsistentRead: true } } }),
        );
        for (const item of res.Responses?.[this.table.tableName] ?? []) {
          const w = toWatermark(item as Item);
          if (w.tenantId === tenantId) out.set(w.account, w);
        }
        keysLeft = (res.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return out;
  }

  async putWatermark(write: MailWatermarkWrite): Promise<boolean> {
    assertWatermarkWrite(write);
    const account = watermarkAccount(write.account);
    const res = await this.table.write(
      'notify watermark put',
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...notifyKeys.watermark(write.tenantId, account),
          tenantId: write.tenantId,
          account,
          since: write.since,
          until: write.until,
          recentJson: JSON.stringify(write.recent),
          updatedAt: this.table.clock.now(),
        },
        // Forward or equal only: a slow worker cannot move a mailbox back in time.
        ConditionExpression: 'attribute_not_exists(pk) OR #until <= :until',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':until': write.until },
      }),
    );
    return res.ok;
  }

  async setOptIn(tenantId: string, source: SourceKind, sourceId: string, optedIn: boolean, by?: string): Promise<void> {
    assertOptInKey(tenantId, source, sourceId);
    const k = notifyKeys.optIn(tenantId, source, sourceId);
    if (!optedIn) {
      await this.table.send('notify opt-out', new DeleteCommand({ TableName: this.table.tableName, Key: k }));
      return;
    }
    // Keep the first opt-in time: a repeated opt-in changes nothing.
    await this.table.write(
      'notify opt-in',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...k, tenantId, source, sourceId, at: this.table.clock.now(), ...(by ? { by } : {}) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async *listOptIns(tenantId: string, source: SourceKind, options: { pageSize?: number } = {}): AsyncIterable<NotifyOptIn> {
    assertOptInKey(tenantId, source, 'x');
    const limit = assertPageLimit(options.pageSize);
    const items = this.table.queryAll(
      'notify opt-in list',
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': notifyKeys.optInPartition(tenantId, source) }, ConsistentRead: true },
      limit,
    );
    for await (const item of items) {
      yield {
        tenantId: item.tenantId as string,
        source: item.source as SourceKind,
        sourceId: item.sourceId as string,
        at: item.at as number,
        ...(typeof item.by === 'string' ? { by: item.by } : {}),
      };
    }
  }
}

function toWatermark(item: Item): MailWatermark {
  let recent: MailWatermark['recent'] = [];
  try {
    const parsed: unknown = JSON.parse(typeof item.recentJson === 'string' ? item.recentJson : '[]');
    if (Array.isArray(parsed)) recent = parsed.filter((r): r is { id: string; at: number } => typeof r?.id === 'string' && typeof r?.at === 'number');
  } catch {
    // A damaged list only costs OnceStore look-ups on the next poll.
  }
  return {
    tenantId: item.tenantId as string,
    account: item.account as string,
    since: item.since as number,
    until: item.until as number,
    recent,
    updatedAt: item.updatedAt as number,
  };
}
