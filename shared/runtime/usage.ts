/**
 * The process's vendor-call meter (ports/usage-meter.ts): one BufferedUsageMeter over the
 * DynamoDB usage store per process, shared by every client the process builds, and the
 * wrapper that flushes its counts before an invocation returns (Lambda freezes the process
 * afterwards, so a pending count would wait for the next invocation, or be lost).
 *
 * The budget metric is written as a CloudWatch Embedded Metric Format line (namespace
 * `QiyeBridge`, metric `UsageProjectedPercent`, dimensions Stage and Vendor): the alarms in
 * infra/constructs/bridge-alarms.ts fire at 80 and 100.
 */
import type { Context } from 'aws-lambda';
import { DynamoUsageStore } from '../adapters/aws/dynamo-usage.store';
import type { UsageStore } from '../ports/usage-meter';
import { BufferedUsageMeter } from '../use-cases/usage/buffered-meter';
import { configuredQuota } from '../use-cases/usage/usage-report';
import type { Runtime } from './runtime';

export const USAGE_METRIC_NAMESPACE = 'QiyeBridge';

interface UsageWiring {
  meter: BufferedUsageMeter;
  store: UsageStore;
}

const byClient = new WeakMap<object, UsageWiring>();

/** The meter and store of this process (one per DynamoDB client, i.e. per process core). */
export function usageWiring(rt: Runtime): UsageWiring {
  let w = byClient.get(rt.ddb);
  if (!w) {
    const store = new DynamoUsageStore(rt.ddb, rt.tableName, { clock: rt.clock });
    const meter = new BufferedUsageMeter({ store, clock: rt.clock, logger: rt.logger.child({ component: 'usage' }), quotaOf: (t, v) => configuredQuota(rt.tenant(t), v) });
    w = { meter, store };
    byClient.set(rt.ddb, w);
  }
  return w;
}

/** `fn`, with the process's usage counts written before each invocation returns. */
export function flushingUsage<E, R>(rt: Runtime, fn: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R> {
  const { meter } = usageWiring(rt);
  return async (event, context) => {
    try {
      return await fn(event, context);
    } finally {
      await meter.flush();
    }
  };
}

/** One EMF metric point on stdout (CloudWatch turns it into a metric; no API call). */
export function emfMetric(stage: string, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
  return (name: string, value: number, dimensions: Record<string, string>): void => {
    const dims = { Stage: stage, ...Object.fromEntries(Object.entries(dimensions).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), v])) };
    write(
      JSON.stringify({
        _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: USAGE_METRIC_NAMESPACE, Dimensions: [Object.keys(dims)], Metrics: [{ Name: name, Unit: 'Percent' }] }] },
        ...dims,
        [name]: value,
      }),
    );
  };
}
