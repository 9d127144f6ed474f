/**
 * The stateless part: functions, HTTP API, Function URL, schedules, alarms and (with static
 * egress) the VPC. It can be destroyed and recreated without losing data.
 *
 * The table, queues and secrets of the stateful stack are referenced by their physical
 * names, which the manifest fixes (tableName(), queueName(), secretName()), not through
 * CloudFormation exports. So the stateful stack can gain or lose a tenant secret or a queue
 * without the "export is in use by another stack" deadlock, and every ARN in the policies
 * is a readable, deterministic string. The only cross-stack reference is the Elastic IP
 * allocations of static egress.
 */
import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType, InvokeMode, type FunctionUrl, type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, type IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { tableName } from '../../shared/adapters/aws/table-definition';
import { FUNCTION_URL_FN, FUNCTIONS, QUEUES, ROUTES, SCHEDULES, queueName, tenantSyncSchedules, type FunctionName, type QueueName } from '../../shared/contracts/app-manifest';
import { BridgeAlarms } from '../constructs/bridge-alarms';
import { BridgeDashboard } from '../constructs/bridge-dashboard';
import { BridgeFunction } from '../constructs/bridge-function';
import { BridgeHttpApi, DEFAULT_STAGE_NAME } from '../constructs/bridge-http-api';
import { BridgeSchedule } from '../constructs/bridge-schedule';
import { TenantSyncSchedules, type ScheduleKind } from '../constructs/tenant-sync-schedules';
import { CALLS_VENDOR_APIS, StaticEgress, egressPorts } from '../constructs/static-egress';

export interface ServiceStackProps extends StackProps {
  stage: string;
  tenants: readonly TenantConfig[];
  /** The tenant file's JSON document, baked into every bundle. */
  tenantsJson: string;
  /** Minutes between EKP incremental runs, unless a tenant sets sync.schedule.incrementalMinutes. */
  syncRateMinutes: number;
  /** How tenant schedules are deployed: EventBridge Scheduler (time zones) or rules (UTC). */
  scheduleKind: ScheduleKind;
  logRetentionDays: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  alarmEmail?: string | undefined;
  /** Static egress: NAT gateways use these Elastic IP allocations. */
  egressEipAllocationIds?: string[] | undefined;
}

export class ServiceStack extends Stack {
  readonly functions: Partial<Record<FunctionName, BridgeFunction>> = {};
  readonly httpApi: BridgeHttpApi;
  readonly functionUrl: FunctionUrl | undefined;
  readonly alarms: BridgeAlarms;
  /** Business counts (EMF) and DLQ depths on one CloudWatch dashboard. */
  readonly dashboard: BridgeDashboard;
  readonly schedules: BridgeSchedule[] = [];
  readonly tenantSchedules: TenantSyncSchedules;
  readonly egress: StaticEgress | undefined;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const logRetention = props.logRetentionDays as RetentionDays; // validated against LOG_RETENTION_DAYS
    const table = TableV2.fromTableName(this, 'Table', tableName(stage));
    const queueRef = (q: QueueName, dlq: boolean): IQueue =>
      Queue.fromQueueArn(this, `${q}${dlq ? 'Dlq' : 'Queue'}`, this.formatArn({ service: 'sqs', resource: queueName(stage, q, dlq), arnFormat: ArnFormat.NO_RESOURCE_NAME }));
    const queueNames = Object.keys(QUEUES) as QueueName[];
    const queues = Object.fromEntries(queueNames.map((q) => [q, queueRef(q, false)])) as Record<QueueName, IQueue>;

    this.egress = props.egressEipAllocationIds?.length
      ? new StaticEgress(this, 'StaticEgress', { eipAllocationIds: props.egressEipAllocationIds, ports: egressPorts(props.tenants), logRetention })
      : undefined;

    this.httpApi = new BridgeHttpApi(this, 'HttpApi', { stage, logRetention });
    // Before the functions: the console alerts function publishes to the alarm topic.
    this.alarms = new BridgeAlarms(this, 'Alarms', { stage, alarmEmail: props.alarmEmail });
    const dlqs = Object.fromEntries(queueNames.map((q) => [q, queueRef(q, true)])) as Record<QueueName, IQueue>;

    // The Function URL's function first: the others get its URL (SSO links in notifications).
    const specs = Object.values(FUNCTIONS).sort((a, b) => Number(b.name === FUNCTION_URL_FN) - Number(a.name === FUNCTION_URL_FN));
    let functionUrl: FunctionUrl | undefined;
    for (const spec of specs) {
      const environment: Record<string, string> = { QIYE_PUBLIC_BASE_URL: this.httpApi.url };
      if (functionUrl) environment.QIYE_SSO_BASE_URL = functionUrl.url;
      const bf = new BridgeFunction(this, `Fn-${spec.name}`, {
        stage,
        spec,
        tenants: props.tenants,
        tenantsJson: props.tenantsJson,
        table,
        queues,
        dlqs,
        alarmTopic: { topic: this.alarms.topic, key: this.alarms.key },
        logRetention,
        logLevel: props.logLevel,
        environment,
        ...(this.egress && CALLS_VENDOR_APIS[spec.name] ? { network: { vpc: this.egress.vpc, securityGroup: this.egress.securityGroup } } : {}),
      });
      this.functions[spec.name] = bf;
      if (spec.name === FUNCTION_URL_FN) functionUrl = this.addFunctionUrl(bf);
    }
    this.functionUrl = functionUrl;

    const fns: Partial<Record<FunctionName, IFunction>> = {};
    for (const bf of Object.values(this.functions)) fns[bf.spec.name] = bf.fn;
    this.httpApi.addRoutes(ROUTES, fns);

    for (const spec of SCHEDULES) {
      const fn = fns[spec.fn];
      if (!fn) throw new Error(`Schedule names function ${spec.fn}, which is not defined`);
      this.schedules.push(new BridgeSchedule(this, `Schedule-${spec.fn}`, { stage, spec, rateMinutes: spec.rateMinutes, fn }));
    }
    // The directory sync: one schedule per tenant and kind, from the tenant config.
    this.tenantSchedules = new TenantSyncSchedules(this, 'TenantSchedules', {
      stage,
      schedules: tenantSyncSchedules(props.tenants, { incrementalMinutes: props.syncRateMinutes }),
      fn: fns.syncPlanner!,
      kind: props.scheduleKind,
    });
    new CfnOutput(this, 'SyncSchedules', {
      key: 'SyncSchedules',
      description: 'How the per-tenant sync schedules are deployed (cdk context scheduleKind)',
      value: props.scheduleKind === 'scheduler' ? 'EventBridge Scheduler (cron in each tenant time zone)' : 'EventBridge rules (cron shifted to UTC)',
    });

    for (const q of queueNames) this.alarms.dlqNotEmpty(q, dlqs[q]);
    // Both planners check the budgets (and write UsageProjectedPercent).
    if (props.tenants.some((t) => t.dingtalk && t.dingtalk.monthlyQuota > 0)) for (const pct of [80, 100]) this.alarms.usageProjection('dingtalk', pct, ['syncPlanner', 'notifyPlanner']);
    this.dashboard = new BridgeDashboard(this, 'Dashboard', { stage, deadLetterQueues: dlqs });
    // The sync planner is scheduled per tenant (TenantSyncSchedules), not in SCHEDULES.
    const scheduled = new Set([...SCHEDULES.map((s) => s.fn), 'syncPlanner']);
    for (const bf of Object.values(this.functions)) {
      // Workers and the planner run unattended: a failed invocation is otherwise silent.
      if (bf.spec.consumes || scheduled.has(bf.spec.name)) this.alarms.functionFailures(bf.spec.name, bf.fn);
    }
    for (const { spec } of this.httpApi.routes) {
      if (spec.fn !== 'dingtalkCallback' && spec.fn !== 'wecomCallback') continue;
      // The extra channels' routes (`.../{tenant}/{channel}`) get their own alarm; the tenant
      // routes keep the labels (and alarm names) they always had.
      const label = `${spec.fn}-${spec.method.toLowerCase()}${spec.path.endsWith('/{channel}') ? '-channel' : ''}`;
      this.alarms.route5xx(label, this.httpApi.api.apiId, DEFAULT_STAGE_NAME, spec.method, spec.path);
    }
  }

  private addFunctionUrl(bf: BridgeFunction): FunctionUrl {
    // The OA links employees' browsers straight to this URL; a browser cannot sign IAM
    // requests, so the URL is public and the function does its own signed-link auth.
    // (cdk-nag 3.0.2's AwsSolutions pack has no Function URL rule, so there is nothing to
    // acknowledge here; the reason is recorded on the HTTP API's public routes.)
    const url = bf.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.BUFFERED });
    new CfnOutput(this, 'SsoFunctionUrl', {
      key: 'SsoFunctionUrl',
      description: 'Function URL the OA links to for SSO (append <tenant>/...)',
      value: url.url,
    });
    return url;
  }
}
