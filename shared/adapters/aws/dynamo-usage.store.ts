/**
 * UsageStore on the single table (ports/usage-meter.ts): one partition per tenant and month
 * (`T#{t}#USAGE#{yyyy-MM}`), a counter item per vendor and API (`C#{vendor}#{api}`, an
 * atomic `ADD calls :n`), and the quota state per vendor (`Q#{vendor}`, written once with a
 * condition). Items expire 400 days after their month ends, so a year of history stays
 * readable for `usage` and the partition never grows past ~100 items.
 */
import type { GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { assertIncrement, assertMonth, monthBounds, type QuotaExhaustion, type UsageCounter, type UsageIncrement, type UsageStore, type UsageVendor } from '../../ports/usage-meter';
import { DynamoStore, Expr } from './dynamo-base.store';
import { keys, unesc } from './table-keys';

const KEEP_AFTER_MONTH_S = 400 * 24 * 3600;

export class DynamoUsageStore extends DynamoStore implements UsageStore {
  async add(increments: readonly UsageIncrement[]): Promise<void> {
    increments.forEach(assertIncrement);
    // One UpdateItem per counter: the meter already summed the calls of a flush.
    for (const i of increments) {
      const e = new Expr();
      const update = e.update({ vendor: i.vendor, api: i.api, cls: i.cls, expiresAt: expiresAt(i.month) }, { calls: i.calls });
      await this.table.send('usage add', new UpdateCommand({ TableName: this.table.tableName, Key: keys.usageCounter(i.tenantId, i.month, i.vendor, i.api), UpdateExpression: update, ...e.attrs() }));
    }
  }

  async counters(tenantId: string, month: string): Promise<UsageCounter[]> {
    assertMonth(month);
    const out: UsageCounter[] = [];
    const items = this.table.queryAll('usage counters', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.usagePartition(tenantId, month), ':p': keys.usageCounterPrefix },
    });
    for await (const item of items) {
      const [, vendor, ...api] = String(item.sk).split('#');
      out.push({ vendor: vendor as UsageVendor, api: unesc(api.join('#')), cls: item.cls === 'free' ? 'free' : 'metered', calls: Number(item.calls ?? 0) });
    }
    return out;
  }

  async markExhausted(tenantId: string, x: QuotaExhaustion): Promise<boolean> {
    assertMonth(x.month);
    const r = await this.table.write(
      'usage mark exhausted',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.usageExhaustion(tenantId, x.month, x.vendor), ...x, expiresAt: expiresAt(x.month) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return r.ok;
  }

  async exhaustion(tenantId: string, vendor: UsageVendor, month: string): Promise<QuotaExhaustion | undefined> {
    assertMonth(month);
    const out = await this.table.send<GetCommandOutput>('usage exhaustion', new GetCommand({ TableName: this.table.tableName, Key: keys.usageExhaustion(tenantId, month, vendor), ConsistentRead: true }));
    const i = out.Item;
    if (!i) return undefined;
    return { vendor, month, at: Number(i.at), api: String(i.api), quotaAtExhaustion: Number(i.quotaAtExhaustion) };
  }

  async clearExhausted(tenantId: string, vendor: UsageVendor, month: string): Promise<void> {
    assertMonth(month);
    await this.table.send('usage clear exhausted', new DeleteCommand({ TableName: this.table.tableName, Key: keys.usageExhaustion(tenantId, month, vendor) }));
  }
}

function expiresAt(month: string): number {
  return Math.floor(monthBounds(month).end / 1000) + KEEP_AFTER_MONTH_S;
}
