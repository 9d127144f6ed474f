/**
 * Alarms that mean "work is being lost or refused", sent to one encrypted SNS topic with
 * an optional email subscription:
 * - a DLQ holds at least one message (work that failed maxReceiveCount times);
 * - a queue worker or the scheduled planner failed or was throttled (the invocation
 *   itself, not a single record: records fail through partial batch responses);
 * - a vendor callback route answered 5xx (the vendor retries, then gives up or, for
 *   DingTalk, disables the callback after repeated failures).
 *
 * The topic is encrypted with a customer-managed key because CloudWatch cannot publish to
 * a topic encrypted with the AWS-managed aws/sns key (its key policy cannot be changed).
 */
import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/observability/metrics';

const PERIOD = Duration.minutes(5);

export interface BridgeAlarmsProps {
  stage: string;
  /** Subscribe this address to the alarm topic (AWS sends a confirmation email first). */
  alarmEmail?: string;
}

export class BridgeAlarms extends Construct {
  readonly topic: Topic;
  /** The topic's key: publishers (the console alerts function) need GenerateDataKey on it. */
  readonly key: Key;
  readonly alarms: Alarm[] = [];
  private readonly stage: string;

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps) {
    super(scope, id);
    this.stage = props.stage;
    const key = (this.key = new Key(this, 'TopicKey', {
      description: `qiye-bridge ${props.stage}: encrypts the alarm topic`,
      enableKeyRotation: true,
      // The key protects only in-flight alarm notifications; nothing stays encrypted under it.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    }));
    // As documented for CloudWatch alarm actions on SSE topics.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      topicName: `qiye-bridge-${props.stage}-alarms`,
      displayName: `qiye-bridge ${props.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy CDK writes for enforceSSL replaces SNS's default policy, so allow
    // this account's alarms explicitly.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    new CfnOutput(this, 'AlarmTopicArn', { key: 'AlarmTopicArn', description: 'SNS topic that receives every alarm', value: this.topic.topicArn });
  }

  /** The DLQ of `queueName` holds at least one message. */
  dlqNotEmpty(name: string, dlq: IQueue): Alarm {
    return this.add(`Dlq-${name}`, `${name}-dlq-not-empty`, dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }), `Messages in the ${name} dead-letter queue: work failed repeatedly and was not applied. Inspect, fix, then redrive.`);
  }

  /** The function's invocations failed, or were throttled. */
  functionFailures(name: string, fn: IFunction): Alarm[] {
    return [
      this.add(`Errors-${name}`, `${name}-errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }), `${name} invocations failed (exception or timeout).`),
      this.add(`Throttles-${name}`, `${name}-throttles`, fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }), `${name} invocations were throttled.`),
    ];
  }

  /**
   * A route answered 5xx. Needs detailed metrics on the stage; HTTP APIs publish per-route
   * metrics with the dimensions ApiId, Stage, Method and Resource (the route path).
   */
  route5xx(label: string, apiId: string, stageName: string, method: string, path: string): Alarm {
    const metric = new Metric({
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensionsMap: { ApiId: apiId, Stage: stageName, Method: method, Resource: path },
      statistic: 'Sum',
      period: PERIOD,
    });
    return this.add(`Route5xx-${label}`, `${label}-5xx`, metric, `${method} ${path} answered 5xx: the vendor's contact events are being refused and will be retried, then dropped.`);
  }

  /**
   * A vendor's metered API calls are projected past `percent` of its monthly quota: the
   * Powertools metric UsageProjectedPercent (namespace METRICS_NAMESPACE, dimensions service,
   * function and vendor: shared/observability/metrics.ts) that the planners write when they
   * check budgets (shared/wiring/usage.ts). `writers` are those planners (the `function`
   * dimension is the manifest's function name: getWiring configures it); the alarm takes the
   * highest of their points. At 100 % a DingTalk org would be refused (90020) before the month ends.
   */
  usageProjection(vendor: string, percent: number, writers: readonly string[]): Alarm {
    const usingMetrics = Object.fromEntries(
      writers.map((fn, i) => [
        `m${i}`,
        new Metric({ namespace: METRICS_NAMESPACE, metricName: 'UsageProjectedPercent', dimensionsMap: { service: METRICS_SERVICE, function: fn, vendor }, period: Duration.hours(1), statistic: 'Maximum' }),
      ]),
    );
    const metric = new MathExpression({ expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, period: Duration.hours(1), label: `${vendor} UsageProjectedPercent` });
    return this.add(
      `Usage-${vendor}-${percent}`,
      `${vendor}-usage-projected-${percent}`,
      metric,
      `${vendor} API calls are projected at ${percent}% or more of the monthly quota (npx qiye-bridge usage --tenant <id>): raise the quota, or reduce schedules and notices (digest mode).`,
      percent,
    );
  }

  private add(id: string, name: string, metric: IMetric, description: string, threshold = 1): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `qiye-bridge-${this.stage}-${name}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
