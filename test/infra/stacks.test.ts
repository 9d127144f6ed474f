/**
 * Both stacks of one deployment, synthesized once per configuration (default, and static
 * egress with every option set) and checked together:
 * - stateful: one table exactly as table-definition.ts describes it, a queue + DLQ per
 *   QUEUES entry with the spec's settings and secure defaults, and one EMPTY secret per
 *   tenant and secret kind, all retained;
 * - service: functions wired as the manifest says, routes, Function URL, schedule, event
 *   sources, alarms, least privilege, static egress;
 * - a clean cdk-nag report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createTableInput, TABLE_TTL_ATTRIBUTE, tableName } from '../../shared/adapters/aws/table-definition';
import { FUNCTION_URL_FN, FUNCTIONS, QUEUES, ROUTES, SCHEDULES, queueName, queueUrlEnv, type FunctionSpec } from '../../shared/contracts/app-manifest';
import { deploymentSecretName, secretKindsFor, secretName, SECRET_KINDS } from '../../shared/config/secrets';
import { DASHBOARD_GRAPHS } from '../../infra/constructs/bridge-dashboard';
import { functionName } from '../../infra/constructs/bridge-function';
import { CALLS_VENDOR_APIS } from '../../infra/constructs/static-egress';
import { DEFAULT_LOG_RETENTION_DAYS } from '../../infra/deploy-config';
import { METRICS_NAMESPACE } from '../../shared/observability/metrics';
import { allowedResources, asArray, flatten, functionByName, resources, roleStatements, synthBridge, type Statement, type Synthesized } from './infra-helpers';

const SPECS = Object.values(FUNCTIONS);
/** The vendor budget alarms (a MAX expression over the planners' UsageProjectedPercent). */
const isUsage = (a: Record<string, unknown>) => typeof a.AlarmName === 'string' && a.AlarmName.includes('-usage-projected-');
let s: Synthesized;
let egress: Synthesized;

// Two syntheses bundle every function twice: minutes on a loaded 2-core machine.
beforeAll(() => {
  // Two synths with bundling skipped: ~9 s on an idle 2-core machine, far more when it is loaded.
  s = synthBridge();
  egress = synthBridge({ staticEgress: 'true', natGateways: '2', alarmEmail: 'ops@acme.example.com', syncRateMinutes: '30', logRetentionDays: 365, scheduleKind: 'rules' });
}, 300_000);

const fnOf = (t: Synthesized, spec: FunctionSpec) => functionByName(t.service, functionName('test', spec));

/** The secret ARN pattern a policy must name for a tenant's secret of one kind. */
const secretArn = (tenant: string, kind: string, channelId?: string) => `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${secretName('test', tenant, kind as never, channelId)}-??????`;

describe('stateful stack: table', () => {
  it('is the single table of table-definition.ts: keys, attribute types and GSIs match the local store', () => {
    const tables = resources(s.stateful, 'AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(1);
    const props = Object.values(tables)[0]!.Properties!;
    const expected = createTableInput(tableName('test'));
    expect(props.TableName).toBe('qiye-bridge-test');
    expect(props.KeySchema).toEqual(expected.KeySchema);
    expect(new Set(props.AttributeDefinitions as unknown[])).toEqual(new Set(expected.AttributeDefinitions));
    expect(props.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('expires items through TTL on expiresAt, keeps point-in-time recovery and deletion protection, and is retained', () => {
    const [id, table] = Object.entries(resources(s.stateful, 'AWS::DynamoDB::GlobalTable'))[0]!;
    expect(table.Properties!.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_TTL_ATTRIBUTE, Enabled: true });
    const replicas = table.Properties!.Replicas as Array<Record<string, unknown>>;
    expect(replicas).toHaveLength(1);
    expect(replicas[0]!.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(replicas[0]!.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(id).toBeTruthy();
  });
});

describe('stateful stack: queues', () => {
  const queueIdByName = (name: string): string => {
    const hit = Object.entries(resources(s.stateful, 'AWS::SQS::Queue')).find(([, q]) => q.Properties?.QueueName === name);
    if (!hit) throw new Error(`no queue ${name}`);
    return hit[0];
  };

  it('creates exactly one queue and one DLQ per manifest queue', () => {
    const names = Object.values(resources(s.stateful, 'AWS::SQS::Queue')).map((q) => q.Properties?.QueueName);
    const expected = Object.values(QUEUES).flatMap((q) => [queueName('test', q.name), queueName('test', q.name, true)]);
    expect(names.sort()).toEqual(expected.sort());
  });

  it.each(Object.values(QUEUES))('$name: redrives to its own DLQ after maxReceiveCount, with the spec timeouts', (spec) => {
    const queues = resources(s.stateful, 'AWS::SQS::Queue');
    const q = queues[queueIdByName(queueName('test', spec.name))]!;
    const dlqId = queueIdByName(queueName('test', spec.name, true));
    expect(q.Properties!.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: spec.maxReceiveCount });
    expect(q.Properties!.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
    expect(q.Properties!.MessageRetentionPeriod).toBe(spec.retentionSeconds);
    const dlq = queues[dlqId]!;
    expect(dlq.Properties!.MessageRetentionPeriod).toBe(spec.dlqRetentionSeconds);
    // Only this queue may use the DLQ as its dead-letter target.
    expect((dlq.Properties!.RedriveAllowPolicy as { redrivePermission: string }).redrivePermission).toBe('byQueue');
    const allowed = (dlq.Properties!.RedriveAllowPolicy as { sourceQueueArns: unknown[] }).sourceQueueArns.map(flatten);
    expect(allowed).toHaveLength(1);
    expect(allowed[0]).toMatch(new RegExp(`:${queueName('test', spec.name)}$`));
    for (const x of [q, dlq]) {
      expect(x.Properties!.SqsManagedSseEnabled).toBe(true);
      expect(x.DeletionPolicy).toBe('Retain');
    }
  });

  it('every queue has a policy that denies any request not made over TLS', () => {
    const policies = Object.values(resources(s.stateful, 'AWS::SQS::QueuePolicy'));
    const covered = new Set<string>();
    for (const p of policies) {
      const doc = p.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> };
      const deniesPlainHttp = doc.Statement.some(
        (st) => st.Effect === 'Deny' && st.Principal && JSON.stringify(st.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }) && st.Action === 'sqs:*',
      );
      if (deniesPlainHttp) for (const q of p.Properties!.Queues as unknown[]) covered.add(flatten(q));
    }
    const all = Object.keys(resources(s.stateful, 'AWS::SQS::Queue')).map((id) => `\${${id}}`);
    expect([...covered].sort()).toEqual(all.sort());
  });
});

describe('stateful stack: tenant secrets', () => {
  it('creates one secret per tenant and kind the tenant configures, and one per extra channel, named by secretName()', () => {
    const names = Object.values(resources(s.stateful, 'AWS::SecretsManager::Secret')).map((r) => r.Properties!.Name);
    const expected = [...s.tenants.config.tenants.flatMap((t) => [...secretKindsFor(t).map((k) => secretName('test', t.id, k)), ...t.channels.map((c) => secretName('test', t.id, c.vendor, c.id))]), deploymentSecretName('test')];
    expect(names.sort()).toEqual(expected.sort());
    // The EKP-only tenant has no DingTalk/WeCom secrets; the other has no EKP secret.
    expect(names).toContain('qiye-bridge/test/acme/ekp');
    expect(names).not.toContain('qiye-bridge/test/acme/dingtalk');
    expect(names).toContain('qiye-bridge/test/globex-cn/wecom');
    expect(names).not.toContain('qiye-bridge/test/globex-cn/ekp');
    // globex-cn's second DingTalk org and second WeCom corp (channels[]) have their own.
    expect(names).toContain('qiye-bridge/test/globex-cn/dingtalk/globex-hk');
    expect(names).toContain('qiye-bridge/test/globex-cn/wecom/globex-labs');
  });

  it('creates them empty and retained: no value, generated or literal, anywhere in either template', () => {
    for (const secret of Object.values(resources(s.stateful, 'AWS::SecretsManager::Secret'))) {
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.Properties).not.toHaveProperty('SecretString');
      if (secret.Properties!.Name === deploymentSecretName('test')) continue; // generated below
      expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    }
    for (const t of [s.stateful, s.service]) {
      const text = JSON.stringify(t.toJSON());
      expect(text).not.toMatch(/"SecretString"|resolve:secretsmanager/);
    }
  });

  it('generates the deployment secret (console keys) by Secrets Manager, never in the template', () => {
    const dep = Object.values(resources(s.stateful, 'AWS::SecretsManager::Secret')).find((r) => r.Properties!.Name === deploymentSecretName('test'))!;
    expect(dep.Properties!.GenerateSecretString).toMatchObject({ GenerateStringKey: 'key', SecretStringTemplate: '{}', PasswordLength: 48 });
  });
});

describe('stateful stack: outputs and settings', () => {
  it('exports the table name and every queue URL, and is protected against deletion', () => {
    const outputs = s.stateful.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs).sort()).toEqual(['DlqUrlCallback', 'DlqUrlNotify', 'DlqUrlPlan', 'DlqUrlSync', 'QueueUrlCallback', 'QueueUrlNotify', 'QueueUrlPlan', 'QueueUrlSync', 'TableName']);
    expect(s.stacks.stateful.terminationProtection).toBe(true);
    // No static egress by default: no Elastic IPs.
    s.stateful.resourceCountIs('AWS::EC2::EIP', 0);
  });
});

describe('service stack: functions', () => {
  it('creates exactly one function per manifest entry, Node.js 22 on arm64, with the spec memory and timeout', () => {
    s.service.resourceCountIs('AWS::Lambda::Function', SPECS.length);
    for (const spec of SPECS) {
      const { props } = fnOf(s, spec);
      expect(props.Runtime, spec.name).toBe('nodejs22.x');
      expect(props.Architectures, spec.name).toEqual(['arm64']);
      expect(props.MemorySize, spec.name).toBe(spec.memoryMb);
      expect(props.Timeout, spec.name).toBe(spec.timeoutSeconds);
      expect(props.Handler, spec.name).toBe('index.handler');
    }
  });

  it('gives every function its stage, table, secrets backend, source maps and log level, and a queue URL only for the queues it sends to', () => {
    for (const spec of SPECS) {
      const env = (fnOf(s, spec).props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.QIYE_STAGE).toBe('test');
      expect(env.TABLE_NAME).toBe('qiye-bridge-test');
      expect(env.QIYE_SECRETS_BACKEND).toBe('aws');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(env.LOG_LEVEL).toBe('info');
      // The baked tenant config must win: a QIYE_TENANTS_FILE would make the function read a file that is not in the bundle.
      expect(env).not.toHaveProperty('QIYE_TENANTS_FILE');
      const queueVars = Object.keys(env).filter((k) => k.startsWith('QUEUE_URL_')).sort();
      // Functions that show or redrive dead letters know every queue (and its DLQ).
      const known = spec.deadLetters ? (Object.keys(QUEUES) as Array<keyof typeof QUEUES>) : spec.sendsTo;
      expect(queueVars, spec.name).toEqual(known.map(queueUrlEnv).sort());
      expect(Object.keys(env).filter((k) => k.startsWith('DLQ_URL_')).length, spec.name).toBe(spec.deadLetters ? Object.keys(QUEUES).length : 0);
      for (const q of spec.sendsTo) expect(flatten(env[queueUrlEnv(q)])).toMatch(new RegExp(`/\\$\\{AWS::AccountId\\}/${queueName('test', q)}$`));
      expect(flatten(env.QIYE_PUBLIC_BASE_URL)).toMatch(/^https:\/\/\$\{HttpApi\w+\}\.execute-api\./);
    }
  });

  it('writes logs to its own log group with the configured retention (default 180 days), via its own role only', () => {
    const groups = resources(s.service, 'AWS::Logs::LogGroup');
    for (const spec of SPECS) {
      const { props, roleId } = fnOf(s, spec);
      const groupId = flatten((props.LoggingConfig as { LogGroup: unknown }).LogGroup).slice(2, -1);
      expect(groups[groupId]?.Properties?.RetentionInDays, spec.name).toBe(DEFAULT_LOG_RETENTION_DAYS);
      expect(allowedResources(s.service, roleId, 'logs:PutLogEvents'), spec.name).toEqual([`\${${groupId}.Arn}`]);
    }
    for (const spec of SPECS) {
      const groupId = flatten((fnOf(egress, spec).props.LoggingConfig as { LogGroup: unknown }).LogGroup).slice(2, -1);
      expect(resources(egress.service, 'AWS::Logs::LogGroup')[groupId]?.Properties?.RetentionInDays).toBe(365);
    }
  });

  it('roles carry no managed policies outside the VPC (no AWSLambdaBasicExecutionRole with logs on *)', () => {
    for (const role of Object.values(resources(s.service, 'AWS::IAM::Role'))) {
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });
});

describe('service stack: HTTP API', () => {
  const routes = () => Object.values(resources(s.service, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties!);

  it('has every manifest route, and only those', () => {
    const keys = routes().map((r) => r.RouteKey).sort();
    expect(keys).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('sends each route to the function the manifest names', () => {
    const integrations = resources(s.service, 'AWS::ApiGatewayV2::Integration');
    for (const spec of ROUTES) {
      const route = routes().find((r) => r.RouteKey === `${spec.method} ${spec.path}`)!;
      const integrationId = flatten(route.Target).replace(/^integrations\/\$\{(.+)\}$/, '$1');
      const uri = flatten(integrations[integrationId]!.Properties!.IntegrationUri);
      expect(uri, `${spec.method} ${spec.path}`).toBe(`\${${fnOf(s, FUNCTIONS[spec.fn]).id}.Arn}`);
    }
  });

  it('requires IAM (SigV4) on the admin routes and nothing else on the public ones', () => {
    for (const spec of ROUTES) {
      const route = routes().find((r) => r.RouteKey === `${spec.method} ${spec.path}`)!;
      expect(route.AuthorizationType, route.RouteKey as string).toBe(spec.auth === 'iam' ? 'AWS_IAM' : 'NONE');
    }
    expect(ROUTES.filter((r) => r.auth === 'iam').map((r) => r.path)).toContain('/admin/{proxy+}');
  });

  it('logs access, throttles and publishes per-route metrics on the $default stage', () => {
    const stages = Object.values(resources(s.service, 'AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(1);
    const stage = stages[0]!.Properties!;
    expect(stage.StageName).toBe('$default');
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.DefaultRouteSettings).toMatchObject({ DetailedMetricsEnabled: true, ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
    const access = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(flatten(access.DestinationArn)).toMatch(/^\$\{HttpApiAccessLogs\w+\.Arn\}$/);
    const format = JSON.parse(access.Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    // WeCom's URL verification carries echostr and signatures in the query string.
    expect(access.Format).not.toMatch(/querystring|\$context\.requestOverride|\$input/i);
  });

  it('exposes the SSO function through a public Function URL and outputs both URLs', () => {
    const urls = Object.values(resources(s.service, 'AWS::Lambda::Url'));
    expect(urls).toHaveLength(1);
    expect(urls[0]!.Properties!.AuthType).toBe('NONE');
    expect(flatten(urls[0]!.Properties!.TargetFunctionArn)).toBe(`\${${fnOf(s, FUNCTIONS[FUNCTION_URL_FN]).id}.Arn}`);
    const outputs = s.service.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['HttpApiUrl', 'SsoFunctionUrl', 'AlarmTopicArn']));
    // Other functions learn the SSO URL (links in notifications); the SSO function cannot reference itself.
    const env = (spec: FunctionSpec) => (fnOf(s, spec).props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env(FUNCTIONS.sso)).not.toHaveProperty('QIYE_SSO_BASE_URL');
    expect(flatten(env(FUNCTIONS.syncWorker).QIYE_SSO_BASE_URL)).toMatch(/FunctionUrl\w*\.FunctionUrl\}$/);
  });
});

describe('service stack: queues, schedules and alarms', () => {
  it('consumes queues through event sources that report partial batch failures, with the spec batching', () => {
    const mappings = Object.values(resources(s.service, 'AWS::Lambda::EventSourceMapping')).map((m) => m.Properties!);
    const consumers = SPECS.filter((f) => f.consumes);
    expect(mappings).toHaveLength(consumers.length);
    for (const spec of consumers) {
      const c = spec.consumes!;
      const m = mappings.find((x) => flatten(x.FunctionName) === `\${${fnOf(s, spec).id}}`)!;
      expect(m, spec.name).toBeDefined();
      expect(flatten(m.EventSourceArn)).toMatch(new RegExp(`:${queueName('test', c.queue)}$`));
      expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.BatchSize).toBe(c.batchSize);
      expect(m.MaximumBatchingWindowInSeconds).toBe(c.maxBatchingWindowSeconds);
      if (c.maxConcurrency) expect(m.ScalingConfig).toEqual({ MaximumConcurrency: c.maxConcurrency });
      // Lambda refuses a mapping whose queue hides messages for less than the function may run.
      expect(QUEUES[c.queue].visibilityTimeoutSeconds).toBeGreaterThanOrEqual(spec.timeoutSeconds);
    }
  });

  it('plans on-demand runs from the plan queue: the admin function sends, the planner alone consumes, one request at a time', () => {
    const mappings = Object.values(resources(s.service, 'AWS::Lambda::EventSourceMapping')).map((m) => m.Properties!);
    const planMappings = mappings.filter((m) => new RegExp(`:${queueName('test', 'plan')}$`).test(flatten(m.EventSourceArn)));
    expect(planMappings.map((m) => flatten(m.FunctionName))).toEqual([`\${${fnOf(s, FUNCTIONS.syncPlanner).id}}`]);
    expect(planMappings[0]!.BatchSize).toBe(1);
    const adminEnv = (fnOf(s, FUNCTIONS.admin).props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flatten(adminEnv[queueUrlEnv('plan')])).toMatch(new RegExp(`/${queueName('test', 'plan')}$`));
    // The planner is still scheduled as well (one schedule per tenant).
    expect(Object.values(resources(s.service, 'AWS::Scheduler::Schedule')).some((r) => flatten((r.Properties!.Target as { Arn: unknown }).Arn).includes(fnOf(s, FUNCTIONS.syncPlanner).id))).toBe(true);
  });

  it('runs the shared schedules (new-mail planner every minute) as rate(N minutes) rules into their function', () => {
    const rules = Object.values(resources(s.service, 'AWS::Events::Rule')).map((r) => r.Properties!);
    expect(rules).toHaveLength(SCHEDULES.length);
    const rule = rules[0]!;
    expect(rule.ScheduleExpression).toBe('rate(1 minute)');
    const targets = rule.Targets as Array<Record<string, unknown>>;
    expect(flatten(targets[0]!.Arn)).toBe(`\${${fnOf(s, FUNCTIONS[SCHEDULES[0]!.fn]).id}.Arn}`);
    expect(JSON.parse(targets[0]!.Input as string)).toMatchObject({ source: 'schedule' });
  });

  it('gives each tenant its own EventBridge Scheduler schedules: a nightly full run in its time zone, EKP incremental runs too', () => {
    const schedules = Object.values(resources(s.service, 'AWS::Scheduler::Schedule')).map((r) => r.Properties!);
    const byName = Object.fromEntries(schedules.map((p) => [p.Name as string, p]));
    expect(Object.keys(byName).sort()).toEqual(['qiye-bridge-test-acme-full', 'qiye-bridge-test-acme-incremental', 'qiye-bridge-test-globex-cn-full']);
    const full = byName['qiye-bridge-test-globex-cn-full']!;
    expect(full.ScheduleExpression).toBe('cron(0 2 * * ? *)');
    expect(full.ScheduleExpressionTimezone).toBe('Asia/Shanghai');
    const target = full.Target as { Arn: unknown; RoleArn: unknown; Input: string };
    expect(JSON.parse(target.Input)).toEqual({ source: 'schedule', schedule: 'tenantSync', tenantId: 'globex-cn', kind: 'full' });
    expect(flatten(target.Arn)).toBe(`\${${fnOf(s, FUNCTIONS.syncPlanner).id}.Arn}`);
    expect(byName['qiye-bridge-test-acme-incremental']!.ScheduleExpression).toBe('rate(15 minutes)');
    // The scheduler's role may invoke the planner and nothing else.
    const roleId = flatten(target.RoleArn).replace(/^\$\{|\.Arn\}$/g, '');
    const stmts = roleStatements(s.service, roleId);
    expect(stmts.flatMap((st) => st.actions)).toEqual(['lambda:InvokeFunction']);
    expect(stmts.flatMap((st) => st.resources)).toEqual([`\${${fnOf(s, FUNCTIONS.syncPlanner).id}.Arn}`]);
  });

  it('falls back to EventBridge rules in UTC (scheduleKind=rules), honouring syncRateMinutes for EKP', () => {
    expect(resources(egress.service, 'AWS::Scheduler::Schedule')).toEqual({});
    const rules = Object.values(resources(egress.service, 'AWS::Events::Rule')).map((r) => r.Properties!);
    const byName = Object.fromEntries(rules.map((p) => [p.Name as string, p]));
    // 02:00 in Asia/Shanghai (+08:00, no daylight saving) is 18:00 UTC.
    expect(byName['qiye-bridge-test-globex-cn-full']!.ScheduleExpression).toBe('cron(0 18 * * ? *)');
    expect(byName['qiye-bridge-test-acme-incremental']!.ScheduleExpression).toBe('rate(30 minutes)');
    const input = JSON.parse((byName['qiye-bridge-test-acme-full']!.Targets as Array<{ Input: string }>)[0]!.Input);
    expect(input).toEqual({ source: 'schedule', schedule: 'tenantSync', tenantId: 'acme', kind: 'full' });
    const outputs = egress.service.findOutputs('SyncSchedules');
    expect(Object.values(outputs)[0]!.Value).toMatch(/EventBridge rules/);
  });

  it('alarms on every DLQ, on worker and planner failures and throttles, and on 5xx of each callback route', () => {
    const alarms = Object.values(resources(s.service, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    const topicRef = flatten({ Ref: Object.keys(resources(s.service, 'AWS::SNS::Topic'))[0] });
    for (const a of alarms) {
      expect(a.Threshold).toBe(isUsage(a) ? a.Threshold : 1);
      expect(a.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect((a.AlarmActions as unknown[]).map(flatten)).toEqual([topicRef]);
    }
    // DingTalk's monthly quota: at 80 % and 100 % of the projection (the EMF metric the planners write).
    const usage = alarms.filter(isUsage);
    expect(usage.map((a) => a.Threshold).sort()).toEqual([100, 80]);
    for (const a of usage) {
      // The highest point of either planner (both check budgets), in the Powertools namespace with its dimensions.
      const stats = (a.Metrics as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> } } }>).filter((m) => m.MetricStat);
      expect(stats).toHaveLength(2);
      for (const m of stats) {
        expect(m.MetricStat!.Metric.Namespace).toBe(METRICS_NAMESPACE);
        expect(m.MetricStat!.Metric.MetricName).toBe('UsageProjectedPercent');
        expect(m.MetricStat!.Metric.Dimensions.map((d) => d.Name).sort()).toEqual(['function', 'service', 'vendor']);
      }
    }
    const dims = (a: Record<string, unknown>) => Object.fromEntries((a.Dimensions as Array<{ Name: string; Value: unknown }>).map((d) => [d.Name, flatten(d.Value)]));

    const dlqAlarms = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlqAlarms.map((a) => dims(a).QueueName).sort()).toEqual(Object.values(QUEUES).map((q) => queueName('test', q.name, true)).sort());

    const watched = SPECS.filter((f) => f.consumes || f.name === 'syncPlanner' || SCHEDULES.some((x) => x.fn === f.name));
    for (const metric of ['Errors', 'Throttles']) {
      const names = alarms.filter((a) => a.MetricName === metric && a.Namespace === 'AWS/Lambda').map((a) => dims(a).FunctionName);
      expect(names.sort(), metric).toEqual(watched.map((f) => `\${${fnOf(s, f).id}}`).sort());
    }

    const route5xx = alarms.filter((a) => a.MetricName === '5xx' && a.Namespace === 'AWS/ApiGateway').map(dims);
    const callbackRoutes = ROUTES.filter((r) => r.fn === 'dingtalkCallback' || r.fn === 'wecomCallback');
    expect(route5xx.map((d) => `${d.Method} ${d.Resource}`).sort()).toEqual(callbackRoutes.map((r) => `${r.method} ${r.path}`).sort());
    for (const d of route5xx) expect(d.Stage).toBe('$default');
  });

  it('sends alarms to an encrypted, TLS-only topic, and subscribes alarmEmail when given', () => {
    const topic = Object.values(resources(s.service, 'AWS::SNS::Topic'))[0]!;
    expect(topic.Properties!.KmsMasterKeyId).toBeDefined();
    const policy = Object.values(resources(s.service, 'AWS::SNS::TopicPolicy'))[0]!.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }));
    const key = Object.values(resources(s.service, 'AWS::KMS::Key'))[0]!.Properties!;
    expect(key.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.KeyPolicy)).toContain('cloudwatch.amazonaws.com');

    s.service.resourceCountIs('AWS::SNS::Subscription', 0);
    egress.service.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.example.com' });
  });
});

describe('service stack: dashboard', () => {
  const body = () => {
    const dashboards = Object.values(resources(s.service, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties!.DashboardName).toBe('qiye-bridge-test');
    return JSON.parse(flatten(dashboards[0]!.Properties!.DashboardBody)) as { widgets: { type: string; properties: { title?: string; metrics?: unknown[][] } }[] };
  };

  it('graphs every business count the functions write, split by its dimension, through SEARCH over the EMF namespace', () => {
    const graphs = body().widgets.filter((w) => w.type === 'metric');
    for (const g of DASHBOARD_GRAPHS) {
      const widget = graphs.find((w) => w.properties.title === g.title);
      expect(widget, g.title).toBeDefined();
      const expression = JSON.stringify(widget!.properties.metrics);
      const dims = ['function', 'service', ...(g.by ? g.by.split(',') : [])].join(',');
      expect(expression).toContain(`SEARCH('{QiyeMailBridge,${dims}} MetricName=\\"${g.metric}\\"', 'Sum', 300)`);
    }
  });

  it('graphs the depth of every dead-letter queue', () => {
    const dlq = body().widgets.find((w) => w.properties.title === 'Dead-letter queue depth')!;
    const lines = JSON.stringify(dlq.properties.metrics);
    for (const q of Object.keys(QUEUES)) expect(lines).toContain(queueName('test', q as keyof typeof QUEUES, true));
    expect(dlq.properties.metrics).toHaveLength(Object.keys(QUEUES).length);
  });
});

describe('service stack: least privilege', () => {
  const allStatements = (t: Synthesized): Statement[] =>
    Object.values(resources(t.service, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);

  it('no policy uses a wildcard action or a bare * resource on DynamoDB, SQS or Secrets Manager', () => {
    for (const t of [s, egress]) {
      const statements = allStatements(t);
      expect(statements.length).toBeGreaterThan(SPECS.length);
      for (const st of statements) {
        const actions = asArray(st.Action);
        const sensitive = actions.filter((a) => /^(dynamodb|sqs|secretsmanager):/.test(a));
        for (const a of sensitive) expect(a).not.toContain('*');
        if (sensitive.length) {
          for (const r of asArray(st.Resource as unknown[]).map(flatten)) {
            expect(r).not.toBe('*');
            // Only DynamoDB's own index ARNs may be multi-valued, and they are named, not `index/*`.
            expect(r).not.toMatch(/\*/);
          }
        }
      }
    }
  });

  it('each role reads exactly the secrets of its spec kinds, for the tenants that have them', () => {
    for (const spec of SPECS) {
      const { roleId } = fnOf(s, spec);
      const tenantArns = s.tenants.config.tenants.flatMap((t) => [
        ...spec.secrets.filter((k) => secretKindsFor(t).includes(k)).map((k) => secretArn(t.id, k)),
        ...t.channels.filter((c) => spec.secrets.includes(c.vendor)).map((c) => secretArn(t.id, c.vendor, c.id)),
      ]);
      const deploymentArn = `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${deploymentSecretName('test')}-??????`;
      const expected = [...tenantArns, ...(spec.readsDeploymentSecret ? [deploymentArn] : [])].sort();
      expect(allowedResources(s.service, roleId, 'secretsmanager:GetSecretValue'), spec.name).toEqual(expected);
      expect(allowedResources(s.service, roleId, 'secretsmanager:DescribeSecret'), spec.name).toEqual(expected);
    }
  });

  it('an extra channel\'s secret is read by the functions that use its vendor, and by no other', () => {
    const hk = secretArn('globex-cn', 'dingtalk', 'globex-hk');
    const labs = secretArn('globex-cn', 'wecom', 'globex-labs');
    const reads = (spec: FunctionSpec) => allowedResources(s.service, fnOf(s, spec).roleId, 'secretsmanager:GetSecretValue');
    for (const spec of [FUNCTIONS.dingtalkCallback, FUNCTIONS.sso, FUNCTIONS.callbackWorker, FUNCTIONS.notifyWorker, FUNCTIONS.admin]) expect(reads(spec), spec.name).toContain(hk);
    expect(reads(FUNCTIONS.wecomCallback)).toContain(labs);
    expect(reads(FUNCTIONS.wecomCallback)).not.toContain(hk);
    expect(reads(FUNCTIONS.dingtalkCallback)).not.toContain(labs);
    for (const spec of [FUNCTIONS.unread, FUNCTIONS.syncWorker]) expect(reads(spec).filter((r) => r.includes('/globex-cn/dingtalk') || r.includes('/globex-cn/wecom')), spec.name).toEqual([]);
  });

  it('the callback functions cannot read the NetEase private key or any other tenant secret kind', () => {
    for (const spec of [FUNCTIONS.dingtalkCallback, FUNCTIONS.wecomCallback]) {
      const readable = allowedResources(s.service, fnOf(s, spec).roleId, 'secretsmanager:GetSecretValue');
      expect(readable.length).toBeGreaterThan(0);
      for (const kind of SECRET_KINDS.filter((k) => !spec.secrets.includes(k))) {
        expect(readable.some((r) => r.includes(`/${kind}-??????`)), `${spec.name} reads ${kind}`).toBe(false);
      }
    }
  });

  it('only the admin function may write secrets, and only the NetEase key', () => {
    for (const spec of SPECS) {
      const writable = allowedResources(s.service, fnOf(s, spec).roleId, 'secretsmanager:PutSecretValue');
      const expected = s.tenants.config.tenants.flatMap((t) => (spec.writesSecrets ?? []).filter((k) => secretKindsFor(t).includes(k)).map((k) => secretArn(t.id, k))).sort();
      expect(writable, spec.name).toEqual(expected);
    }
    expect(FUNCTIONS.admin.writesSecrets).toEqual(['netease']);
  });

  it('each role may send only to the queues its spec names, and read/write only this stage table and its named indexes', () => {
    for (const spec of SPECS) {
      const { roleId } = fnOf(s, spec);
      const sendable = allowedResources(s.service, roleId, 'sqs:SendMessage');
      // A redriving function (the console) sends DLQ messages back to any queue.
      const sends = spec.deadLetters === 'redrive' ? Object.keys(QUEUES) : spec.sendsTo;
      expect(sendable.map((r) => r.split(':').pop()).sort(), spec.name).toEqual(sends.map((q) => queueName('test', q as never)).sort());
      const writeAction = 'dynamodb:PutItem';
      const tableArn = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/qiye-bridge-test';
      expect(allowedResources(s.service, roleId, 'dynamodb:GetItem'), spec.name).toEqual([tableArn]);
      expect(allowedResources(s.service, roleId, writeAction), spec.name).toEqual(spec.table === 'readwrite' ? [tableArn] : []);
      expect(allowedResources(s.service, roleId, 'dynamodb:Query'), spec.name).toEqual([tableArn, `${tableArn}/index/gsi1`]);
      // Consumers receive from their own queue only.
      const receivable = allowedResources(s.service, roleId, 'sqs:ReceiveMessage');
      const receives = spec.deadLetters === 'redrive' ? Object.keys(QUEUES).map((q) => queueName('test', q as never, true)) : spec.consumes ? [queueName('test', spec.consumes.queue)] : [];
      expect(receivable.map((r) => r.split(':').pop()).sort(), spec.name).toEqual(receives.sort());
    }
  });

  it('grants nothing beyond logs, DynamoDB, Secrets Manager, SQS (and EC2 ENIs through the VPC policy); SNS and its key only to the alerts function', () => {
    for (const spec of SPECS) {
      const services = new Set(roleStatements(s.service, fnOf(s, spec).roleId).flatMap((st) => st.actions.map((a) => a.split(':')[0])));
      for (const svc of services) expect([...['logs', 'dynamodb', 'secretsmanager', 'sqs'], ...(spec.publishesAlarms ? ['sns', 'kms'] : [])]).toContain(svc);
    }
    const alerts = fnOf(s, FUNCTIONS.alerts);
    expect(allowedResources(s.service, alerts.roleId, 'sns:Publish')).toHaveLength(1);
  });

  it('the console reads queue depths and redrives DLQs; the alerts function only reads depths', () => {
    const depthArns = Object.keys(QUEUES).flatMap((q) => [queueName('test', q as never), queueName('test', q as never, true)]).sort();
    for (const spec of [FUNCTIONS.console, FUNCTIONS.alerts]) {
      const { roleId } = fnOf(s, spec);
      expect([...new Set(allowedResources(s.service, roleId, 'sqs:GetQueueAttributes').map((r) => r.split(':').pop()))].sort(), spec.name).toEqual(depthArns);
    }
    expect(allowedResources(s.service, fnOf(s, FUNCTIONS.alerts).roleId, 'sqs:DeleteMessage')).toEqual([]);
  });
});

describe('static egress (staticEgress=true)', () => {
  it('allocates retained Elastic IPs in the stateful stack and outputs them for whitelisting', () => {
    const eips = Object.values(resources(egress.stateful, 'AWS::EC2::EIP'));
    expect(eips).toHaveLength(2);
    for (const e of eips) expect(e.DeletionPolicy).toBe('Retain');
    const outputs = egress.stateful.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(flatten(outputs.EgressIps!.Value)).toMatch(/^\$\{EgressAddressesEip1\w+\.PublicIp\},\$\{EgressAddressesEip2\w+\.PublicIp\}$/);
  });

  it('builds a VPC whose NAT gateways use those Elastic IPs, with flow logs', () => {
    const nats = Object.values(resources(egress.service, 'AWS::EC2::NatGateway'));
    expect(nats).toHaveLength(2);
    for (const n of nats) expect(JSON.stringify(n.Properties!.AllocationId)).toMatch(/EgressAddressesEip\d\w*AllocationId/);
    egress.service.resourceCountIs('AWS::EC2::VPC', 1);
    egress.service.resourceCountIs('AWS::EC2::EIP', 0); // none of CDK's own: they would change on redeploy
    const flowLogs = Object.values(resources(egress.service, 'AWS::EC2::FlowLog'));
    expect(flowLogs).toHaveLength(1);
    expect(flowLogs[0]!.Properties).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  it('puts exactly the vendor-calling functions in the private subnets, behind a security group open only to the vendor ports', () => {
    const subnets = resources(egress.service, 'AWS::EC2::Subnet');
    const privateSubnetIds = Object.entries(subnets)
      .filter(([, sn]) => (sn.Properties!.Tags as Array<{ Key: string; Value: string }>).some((t) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Private'))
      .map(([id]) => `\${${id}}`);
    expect(privateSubnetIds).toHaveLength(2);
    for (const spec of SPECS) {
      const vpcConfig = fnOf(egress, spec).props.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] } | undefined;
      if (CALLS_VENDOR_APIS[spec.name]) {
        expect(vpcConfig, spec.name).toBeDefined();
        expect(vpcConfig!.SubnetIds.map(flatten).sort(), spec.name).toEqual(privateSubnetIds.sort());
      } else {
        expect(vpcConfig, spec.name).toBeUndefined();
      }
    }
    expect(CALLS_VENDOR_APIS.dingtalkCallback).toBe(false);
    expect(CALLS_VENDOR_APIS.syncWorker).toBe(true);

    const sg = Object.values(resources(egress.service, 'AWS::EC2::SecurityGroup'))[0]!.Properties!;
    expect(sg).not.toHaveProperty('SecurityGroupIngress');
    // 443 for AWS and SaaS vendor APIs, 8443 for the fixture tenant's self-hosted CAS.
    const egressPorts = (sg.SecurityGroupEgress as Array<{ FromPort: number; ToPort: number; IpProtocol: string; CidrIp: string }>).map((r) => `${r.IpProtocol}/${r.FromPort}-${r.ToPort}`);
    expect(egressPorts.sort()).toEqual(['tcp/443-443', 'tcp/8443-8443']);
  });

  it('gives VPC functions the ENI permissions through the AWS-managed VPC policy, and no other function', () => {
    const roles = resources(egress.service, 'AWS::IAM::Role');
    for (const spec of SPECS) {
      const managed = JSON.stringify(roles[fnOf(egress, spec).roleId]!.Properties!.ManagedPolicyArns ?? []);
      expect(managed.includes('AWSLambdaVPCAccessExecutionRole'), spec.name).toBe(CALLS_VENDOR_APIS[spec.name]);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, with or without static egress', () => {
    const describeViolations = (t: Synthesized) => t.nag.violations.map((v) => `${v.ruleName} ${v.severity}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(describeViolations(s)).toEqual([]);
    expect(describeViolations(egress)).toEqual([]);
  });

  it('is live: the same checks flag an unencrypted, non-TLS queue', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'NagProbe');
    new Queue(stack, 'Bare', { enforceSSL: false });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('every acknowledgement carries a written reason', () => {
    const acks: Array<{ path: string; id: string; reason: unknown }> = [];
    for (const t of [s, egress]) {
      for (const c of t.app.node.findAll()) {
        for (const m of c.node.metadata) {
          if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [id, reason] of Object.entries(m.data as Record<string, unknown>)) acks.push({ path: c.node.path, id, reason });
        }
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(typeof a.reason, `${a.path} ${a.id}`).toBe('string');
      expect((a.reason as string).length, `${a.path} ${a.id}`).toBeGreaterThan(40);
    }
    // The public routes are acknowledged for APIG4, the admin route is not (it is IAM-authorized).
    const apig4 = acks.filter((a) => a.id.endsWith('AwsSolutions-APIG4')).map((a) => a.path);
    expect(apig4.some((p) => p.includes('admin'))).toBe(false);
  });
});
