/**
 * The names of the EMF metrics the functions write (namespace QiyeMailBridge): a contract with
 * the dashboard and alarms in infra/constructs/, which read them by name. One list, so the
 * use cases' port (shared/ports/metrics.ts) and the Powertools module
 * (shared/observability/metrics.ts) cannot drift apart. Change a name only together with infra/.
 */

/** Business counts, written by the use cases through the BusinessMetrics port. */
export type BusinessMetricName =
  | 'SyncRuns'
  | 'SyncOperations'
  | 'SyncOperationFailures'
  | 'CallbacksAccepted'
  | 'CallbacksRefused'
  | 'CallbacksIgnored'
  | 'NoticesSent';

/** Platform counts, written by the vendor HTTP client and the SQS batch handler. */
export type PlatformMetricName = 'VendorCalls' | 'VendorErrors' | 'QueueRecordsFailed' | 'QueueRecordsDeferred';

/** Every count we emit. */
export type MetricName = BusinessMetricName | PlatformMetricName;
