/**
 * One CloudWatch dashboard for the bridge: the business counts the functions write as EMF
 * (shared/observability/metrics.ts, namespace QiyeMailBridge) beside the queues' dead-letter
 * depths, so an operator sees runs, operations, callbacks (accepted, refused, ignored), notices and vendor errors on one
 * page (the console links alerts to runs; this shows the trends).
 *
 * Why SEARCH expressions and not plain metrics: Powertools writes every count with the
 * dimensions `service` and `function` plus, where the code names them, `vendor`, `status`,
 * `kind` or `code`. CloudWatch keys a metric by its full dimension set, so a plain Metric
 * with fewer dimensions would match nothing. `SEARCH('{ns,dims} MetricName="X"')` returns
 * one line per dimension combination (per status, per vendor, ...), which is what a graph
 * of "runs by status" wants, and needs no list of function names here.
 */
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, TextWidget, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type MetricName } from '../../shared/observability/metrics';

const PERIOD = Duration.minutes(5);

/** What each graph shows: a metric and the extra dimension its lines are split by. */
export const DASHBOARD_GRAPHS: readonly { title: string; metric: MetricName; by?: 'status' | 'kind' | 'code' | 'vendor' | 'vendor,code' }[] = [
  { title: 'Sync runs by status', metric: 'SyncRuns', by: 'status' },
  { title: 'Sync operations by kind', metric: 'SyncOperations', by: 'kind' },
  { title: 'Sync operation failures by kind', metric: 'SyncOperationFailures', by: 'kind' },
  { title: 'Callbacks accepted', metric: 'CallbacksAccepted', by: 'vendor' },
  { title: 'Callbacks refused by code', metric: 'CallbacksRefused', by: 'code' },
  { title: 'Callbacks ignored (authentic, not acted on)', metric: 'CallbacksIgnored', by: 'vendor' },
  { title: 'New-mail notices sent', metric: 'NoticesSent', by: 'vendor' },
  { title: 'Vendor calls', metric: 'VendorCalls', by: 'vendor' },
  { title: 'Vendor errors by code', metric: 'VendorErrors', by: 'vendor,code' },
  { title: 'Queue records failed', metric: 'QueueRecordsFailed' },
  { title: 'Queue records deferred (deadline)', metric: 'QueueRecordsDeferred' },
];

export interface BridgeDashboardProps {
  stage: string;
  /** Dead-letter queues by queue name: their depth is graphed. */
  deadLetterQueues: Record<string, IQueue>;
}

export class BridgeDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: BridgeDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `qiye-bridge-${props.stage}`, defaultInterval: Duration.days(1) });
    const widgets: IWidget[] = [
      new TextWidget({
        markdown: `# Qiye Mail Bridge (${props.stage})\nBusiness counts from the functions (EMF, namespace \`${METRICS_NAMESPACE}\`; the tenant is in each line's metadata, not a dimension). Runs and approvals: the console's Runs page.`,
        width: 24,
        height: 2,
      }),
      ...DASHBOARD_GRAPHS.map((g) => new GraphWidget({ title: g.title, left: [searchExpression(g.metric, g.by)], width: 8, height: 6, statistic: 'Sum' })),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: Object.entries(props.deadLetterQueues).map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ label: name, period: PERIOD, statistic: 'Maximum' })),
        width: 8,
        height: 6,
      }),
    ];
    this.dashboard.addWidgets(...widgets);
  }
}

/** One line per dimension combination of `metric`, summed per period. */
export function searchExpression(metric: MetricName, by?: string): MathExpression {
  const dims = ['function', 'service', ...(by ? by.split(',') : [])].join(',');
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dims}} MetricName="${metric}"', 'Sum', ${PERIOD.toSeconds()})`,
    label: '',
    period: PERIOD,
    // MathExpression needs usingMetrics even when the expression brings its own metrics.
    usingMetrics: {},
  });
}
