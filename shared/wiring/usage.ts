/**
 * Vendor API metering of a process (ports/usage-meter.ts): ONE BufferedUsageMeter over the
 * DynamoDB usage store per runtime core, handed to createTenantClients so every DingTalk and
 * WeCom client the process builds is metered (the metered/free classification stays in each
 * adapter: dingtalk.metering.ts, wecom.metering.ts), and the wrapper that writes its counts
 * before an invocation returns (Lambda freezes
 * the process afterwards, so a pending count would wait for the next invocation, or be lost).
 *
 * The budget metric: `UsageProjectedPercent` (dimension `vendor`) through Powertools
 * (shared/observability/metrics.ts); the alarms in infra/constructs/bridge-alarms.ts fire at
 * 80 and 100.
 */
import type { Context } from 'aws-lambda';
import { DynamoUsageStore } from '../adapters/aws/dynamo-usage.store';
import { metrics } from '../observability/metrics';
import type { UsageStore } from '../ports/usage-meter';
import type { Runtime } from '../runtime/runtime';
import { BufferedUsageMeter } from '../use-cases/usage/buffered-meter';
import { configuredQuota } from '../use-cases/usage/usage-report';

export interface ProcessUsage {
  meter: BufferedUsageMeter;
  store: UsageStore;
}

const byClient = new WeakMap<object, ProcessUsage>();

/** The meter and store of this runtime core (one per DynamoDB client, i.e. per process core). */
export function processUsage(rt: Pick<Runtime, 'ddb' | 'tableName' | 'clock' | 'logger' | 'tenant'>): ProcessUsage {
  let u = byClient.get(rt.ddb);
  if (!u) {
    const store = new DynamoUsageStore(rt.ddb, rt.tableName, { clock: rt.clock });
    const meter = new BufferedUsageMeter({ store, clock: rt.clock, logger: rt.logger.child({ component: 'usage' }), quotaOf: (t, v) => configuredQuota(rt.tenant(t), v) });
    u = { meter, store };
    byClient.set(rt.ddb, u);
  }
  return u;
}

/** `fn`, with the meter's counts written before each invocation returns (lazyHandler writes the buffered metrics). */
export function flushingUsage<E, R>(meter: Pick<BufferedUsageMeter, 'flush'>, fn: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    try {
      return await fn(event, context);
    } finally {
      await meter.flush();
    }
  };
}

/** The use cases' `metric` hook (checkBudgets) as a Powertools metric: the budget projection per vendor. */
export function budgetMetric(name: string, value: number, dimensions: Record<string, string>): void {
  if (name !== 'UsageProjectedPercent') throw new RangeError(`unknown budget metric ${name}`);
  metrics().percent('UsageProjectedPercent', value, { ...(dimensions.vendor ? { vendor: dimensions.vendor } : {}), ...(dimensions.tenant ? { tenant: dimensions.tenant } : {}) });
}
