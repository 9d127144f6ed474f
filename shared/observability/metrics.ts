/**
 * Business counts as CloudWatch EMF metrics (Powertools Metrics), created once per function.
 *
 * - Namespace `QiyeMailBridge`; every metric has the dimensions `service` (qiye-mail-bridge)
 *   and `function` (syncWorker, wecomCallback...), plus the few low-cardinality dimensions a
 *   metric names (`vendor`, `status`, `kind`, `code`).
 * - The tenant is NOT a dimension (every tenant would multiply the custom metrics billed);
 *   it is EMF metadata: searchable in Logs Insights on the metric's log line, not a metric
 *   of its own. Counts are therefore grouped per (dimensions, tenant) and each group is one
 *   Powertools Metrics instance, so a line never mixes tenants.
 * - Counts are buffered and written by `flushMetrics()` at the end of every invocation of
 *   every function (lazyHandler in shared/http/http-handler.ts wraps each exported handler;
 *   sqs-batch.ts also flushes after each batch), and Powertools writes a group by itself
 *   when it reaches 100 values.
 * - The `function` dimension is the manifest's function name (syncWorker, not the deployed
 *   `qiye-bridge-prod-syncWorker`): the wiring calls `configureMetrics` when it builds a
 *   function's dependencies at cold start (shared/wiring/wiring.ts).
 * - Where lines go: EMF is written to stdout only inside Lambda (AWS_LAMBDA_FUNCTION_NAME
 *   set), where CloudWatch turns the lines into metrics. In tests and in the local stack
 *   nothing is written (stdout stays readable). POWERTOOLS_METRICS_DISABLED, Powertools'
 *   own switch, overrides either way ("false" turns EMF on locally, "true" off in Lambda).
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricName } from '../contracts/metric-names';

export const METRICS_NAMESPACE = 'QiyeMailBridge';
/** The `service` dimension of every metric (the alarms name it too: infra/constructs/bridge-alarms.ts). */
export const METRICS_SERVICE = 'qiye-mail-bridge';

/** The counts we emit: one list for every function, the use cases' port and infra (shared/contracts/metric-names.ts). */
export type { MetricName } from '../contracts/metric-names';

/** Levels (unit Percent), not counts: a vendor's API calls projected to the month's end, in % of its quota. */
export type PercentMetricName = 'UsageProjectedPercent';

/** Low-cardinality dimensions only: never ids, never free text. */
export interface MetricDimensions {
  vendor?: string;
  status?: string;
  kind?: string;
  code?: string;
}

export interface CountOptions extends MetricDimensions {
  /** Written as EMF metadata, not as a dimension (see the module doc). */
  tenant?: string;
}

export interface BridgeMetrics {
  /** The `function` dimension of every count. */
  readonly functionName: string;
  count(name: MetricName, value?: number, options?: CountOptions): void;
  /** One level in percent (the alarm takes the Maximum of a period). */
  percent(name: PercentMetricName, value: number, options?: CountOptions): void;
  /** Write every buffered count (one EMF line per dimensions+tenant group). */
  flush(): void;
}

export interface MetricsOptions {
  functionName: string;
  /** Force EMF on or off; default: on inside Lambda only (see the module doc). */
  enabled?: boolean;
}

export function createMetrics(options: MetricsOptions): BridgeMetrics {
  const enabled = options.enabled ?? defaultEnabled(process.env);
  const groups = new Map<string, { metrics: Metrics; tenant: string | undefined }>();

  const group = (dims: MetricDimensions, tenant: string | undefined) => {
    const key = JSON.stringify([dims.vendor, dims.status, dims.kind, dims.code, tenant]);
    let g = groups.get(key);
    if (!g) {
      const defaultDimensions: Record<string, string> = { function: options.functionName };
      for (const k of ['vendor', 'status', 'kind', 'code'] as const) if (dims[k]) defaultDimensions[k] = dims[k];
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, defaultDimensions });
      // Our decision beats Powertools' env defaults (POWERTOOLS_DEV would also disable it).
      (metrics as unknown as { disabled: boolean }).disabled = !enabled;
      g = { metrics, tenant };
      groups.set(key, g);
    }
    return g;
  };

  const add = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, opts: CountOptions) => {
    const { tenant, ...dims } = opts;
    const g = group(dims, tenant);
    if (g.tenant) g.metrics.addMetadata('tenant', g.tenant); // cleared by each publish, so set per value
    g.metrics.addMetric(name, unit, value);
  };

  return {
    functionName: options.functionName,
    count: (name, value = 1, opts = {}) => add(name, MetricUnit.Count, value, opts),
    percent: (name, value, opts = {}) => add(name, MetricUnit.Percent, value, opts),
    flush() {
      for (const g of groups.values()) if (g.metrics.hasStoredMetrics()) g.metrics.publishStoredMetrics();
    },
  };
}

function defaultEnabled(env: NodeJS.ProcessEnv): boolean {
  const flag = env.POWERTOOLS_METRICS_DISABLED?.trim().toLowerCase();
  if (flag !== undefined && flag !== '') return !['1', 'true', 'y', 'yes', 'on'].includes(flag);
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined && env.QIYE_STAGE !== 'local';
}

let current: BridgeMetrics | undefined;

/**
 * The process's metrics: one per function in Lambda. Built on first use from
 * AWS_LAMBDA_FUNCTION_NAME unless the wiring called `configureMetrics` first.
 */
export function metrics(): BridgeMetrics {
  return (current ??= createMetrics({ functionName: process.env.QIYE_FUNCTION_NAME ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown' }));
}

/**
 * Set the process's metrics once, at cold start (wiring), with our function name. Counts
 * buffered by the metrics it replaces are written first, so none is lost. (The local stack
 * runs every function in one process: the last function wired names the dimension there,
 * where EMF is off anyway.)
 */
export function configureMetrics(options: MetricsOptions): BridgeMetrics {
  current?.flush();
  current = createMetrics(options);
  return current;
}

/** Write the process's buffered counts (end of an invocation). */
export function flushMetrics(): void {
  current?.flush();
}
