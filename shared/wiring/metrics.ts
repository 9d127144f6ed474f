/**
 * The use cases' metrics port (shared/ports/metrics.ts) over the process's Powertools Metrics
 * (shared/observability/metrics.ts): the adapter side.
 *
 * Each count goes to the process's metrics of that moment rather than to an instance captured
 * at wiring time: `configureMetrics` replaces them at a function's cold start (in the local
 * stack every function shares one process), and only the current ones are flushed at the end
 * of an invocation.
 */
import { metrics } from '../observability/metrics';
import type { BusinessMetrics } from '../ports/metrics';

export const processMetrics: BusinessMetrics = {
  // The port's names are a subset of observability's MetricName: tsc checks it here.
  count: (name, value, dimensions) => metrics().count(name, value, dimensions),
};
