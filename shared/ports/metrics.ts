/**
 * Business counts as the use cases see them: a port, so a use case never reaches for the
 * process's Powertools Metrics (shared/observability/metrics.ts) itself. The wiring passes the
 * process's metrics (shared/wiring/metrics.ts); tests pass {@link recordingMetrics} to assert
 * what was counted, or {@link noMetrics} (SyncDeps, built in many places, may omit the port:
 * nothing is counted then).
 *
 * Names (shared/contracts/metric-names.ts) and dimensions are those of the EMF metrics
 * (namespace QiyeMailBridge), which the dashboard and alarms in infra/constructs/ read.
 */
import type { BusinessMetricName } from '../contracts/metric-names';

/** Low-cardinality dimensions only (never ids, never free text), plus the tenant, which is EMF metadata, not a dimension. */
export interface CountDimensions {
  vendor?: string;
  status?: string;
  kind?: string;
  code?: string;
  /** Written as metadata of the metric line, not as a dimension (shared/observability/metrics.ts). */
  tenant?: string;
}

/** Where the use cases count business events. */
export interface BusinessMetrics {
  /** Add `value` to the count `name` with these dimensions (buffered; the wiring writes it at the end of the invocation). */
  count(name: BusinessMetricName, value: number, dimensions?: CountDimensions): void;
}

/** Counts nothing: the default of deps that omit `metrics` (tests, tools without EMF). */
export const noMetrics: BusinessMetrics = { count: () => {} };

/** One recorded count. */
export interface RecordedCount {
  name: BusinessMetricName;
  value: number;
  dimensions: CountDimensions;
}

/** Keeps every count in `counts`, in order (tests). */
export function recordingMetrics(): BusinessMetrics & { counts: RecordedCount[] } {
  const counts: RecordedCount[] = [];
  return { counts, count: (name, value, dimensions = {}) => void counts.push({ name, value, dimensions }) };
}
