/**
 * One Lambda function from a FunctionSpec in the app manifest, with everything it needs and
 * nothing more:
 *
 * - Node.js 22 on arm64, an ESM bundle built by the local esbuild (no Docker), minified,
 *   with source maps, and the tenant config baked in (`__QIYE_TENANTS__`).
 * - Its own log group with a retention period, and its own role that can write only to it
 *   (no AWSLambdaBasicExecutionRole, whose logs:CreateLogGroup/PutLogEvents apply to `*`).
 * - Grants from the spec: table read or read/write, the tenant secrets of the kinds it
 *   reads (and writes), SendMessage on the queues it sends to, and an SQS event source
 *   with partial batch failures for the queue it consumes.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogLevel as EsbuildLogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { TABLE_INDEXES } from '../../shared/adapters/aws/table-definition';
import { dlqUrlEnv, QUEUES, queueUrlEnv, type FunctionSpec, type QueueName } from '../../shared/contracts/app-manifest';
import { deploymentSecretArn, tenantSecretArns } from './tenant-secrets';

/** Repository root: entries in the manifest are relative to it. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * esbuild turns `require('crypto')` inside bundled CommonJS (node-forge) into a call that
 * throws "Dynamic require of "crypto" is not supported" in an ESM bundle; a real `require`
 * in module scope fixes it (STYLE.md, CDK section).
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Physical function name: readable in the console, logs and alarms. */
export function functionName(stage: string, spec: FunctionSpec): string {
  return `qiye-bridge-${stage}-${spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface BridgeFunctionProps {
  stage: string;
  spec: FunctionSpec;
  tenants: readonly TenantConfig[];
  /** The tenant file's JSON document, baked into the bundle (see DeployTenants.bakedJson). */
  tenantsJson: string;
  table: ITableV2;
  /** Every queue of the app; the function gets URLs and grants only for those in its spec. */
  queues: Record<QueueName, IQueue>;
  logRetention: RetentionDays;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Extra environment variables (public base URLs). */
  environment?: Record<string, string>;
  /** Place the function in these private subnets (static egress through NAT). */
  network?: { vpc: IVpc; securityGroup: ISecurityGroup };
  /** Override the repository root (tests bundle fixture entries). */
  projectRoot?: string;
  /** Every DLQ of the app (for specs with `deadLetters`). */
  dlqs?: Record<QueueName, IQueue>;
  /** The alarm topic and its key (for specs with `publishesAlarms`). */
  alarmTopic?: { topic: ITopic; key: IKey };
}

export class BridgeFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly spec: FunctionSpec;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);
    const { spec, stage } = props;
    this.spec = spec;
    const root = props.projectRoot ?? PROJECT_ROOT;

    if (spec.consumes) {
      const visibility = QUEUES[spec.consumes.queue].visibilityTimeoutSeconds;
      // Lambda refuses an SQS event source whose queue visibility timeout is shorter than
      // the function timeout; fail at synth rather than halfway through a deployment.
      if (visibility < spec.timeoutSeconds) {
        throw new Error(`${spec.name}: queue ${spec.consumes.queue} visibility timeout ${visibility}s is shorter than the function timeout ${spec.timeoutSeconds}s`);
      }
    }

    // Retained: operators need the logs of a stack they just deleted. The name is left to
    // CloudFormation (the function points at it through its logging config), so a
    // redeployment never collides with a retained group.
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `qiye-bridge ${stage} ${spec.name}: least-privilege execution role`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      // Lambda creates and deletes the function's ENIs with the role's permissions; the
      // EC2 network-interface actions do not support resource-level scoping.
      this.role.addManagedPolicy(ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'AWSLambdaVPCAccessExecutionRole grants only the ENI actions Lambda needs to attach the function to its private subnets (static egress); those EC2 actions cannot be scoped to resources.',
      });
    }

    const environment: Record<string, string> = {
      QIYE_STAGE: stage,
      TABLE_NAME: props.table.tableName,
      QIYE_SECRETS_BACKEND: 'aws',
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: props.logLevel,
      ...props.environment,
    };
    for (const q of spec.sendsTo) environment[queueUrlEnv(q)] = props.queues[q].queueUrl;
    if (spec.deadLetters) {
      if (!props.dlqs) throw new Error(`${spec.name}: spec.deadLetters needs the DLQs`);
      for (const q of Object.keys(QUEUES) as QueueName[]) {
        environment[queueUrlEnv(q)] = props.queues[q].queueUrl;
        environment[dlqUrlEnv(q)] = props.dlqs[q].queueUrl;
      }
    }
    if (spec.publishesAlarms) {
      if (!props.alarmTopic) throw new Error(`${spec.name}: spec.publishesAlarms needs the alarm topic`);
      environment.ALARM_TOPIC_ARN = props.alarmTopic.topic.topicArn;
    }

    this.fn = new NodejsFunction(this, 'Function', {
      functionName: functionName(stage, spec),
      description: spec.description.slice(0, 256),
      entry: join(root, spec.entry),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      // Not the newest family (24.x): see the AwsSolutions-L1 acknowledgement below.
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      environment,
      ...(props.network
        ? { vpc: props.network.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [props.network.securityGroup] }
        : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // The maps point at files in this repository; embedding the sources would double
        // the asset size for no benefit in stack traces.
        sourcesContent: false,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle @aws-sdk/* instead of using the copy in the Lambda runtime: the runtime's
        // SDK version changes under us without notice, the pinned one is what the tests
        // ran against (package-lock.json), and one asset hash then describes everything
        // the function executes. Cost: ~1 MB more per bundle and a slightly longer cold
        // start, acceptable for these low-traffic functions.
        externalModules: [],
        define: { __QIYE_TENANTS__: JSON.stringify(props.tenantsJson) },
        logLevel: EsbuildLogLevel.WARNING,
        forceDockerBundling: false,
      },
    });

    // Table: the spec's access level, through the CDK grant (explicit actions, no
    // `dynamodb:*`). The table reference carries no index names, so the grant covers the
    // table itself; the indexes are granted below by name instead of CDK's `index/*`.
    if (spec.table === 'read') props.table.grantReadData(this.fn);
    else props.table.grantReadWriteData(this.fn);
    if (TABLE_INDEXES.length) {
      this.role.addToPolicy(
        new PolicyStatement({
          // Query is the only read an index serves here (no Scan anywhere in the adapters).
          actions: ['dynamodb:Query'],
          resources: TABLE_INDEXES.map((ix) => `${props.table.tableArn}/index/${ix.indexName}`),
        }),
      );
    }
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the chosen runtime: the code and its tests target the Node 20/22 API surface (local development and CI run Node 20), and 22.x is supported by Lambda until 2027. Moving to nodejs24.x is a deliberate, tested upgrade, not an automatic one.',
    });

    // Secrets: only the kinds in the spec, for every tenant that has them.
    const readArns = tenantSecretArns(this, stage, props.tenants, spec.secrets);
    if (readArns.length) {
      this.role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: readArns }));
    }
    const writeArns = tenantSecretArns(this, stage, props.tenants, spec.writesSecrets ?? []);
    if (writeArns.length) {
      this.role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: writeArns }));
    }

    for (const q of spec.sendsTo) props.queues[q].grantSendMessages(this.fn);

    // The deployment secret (console session and break-glass keys), by name like tenant secrets.
    if (spec.readsDeploymentSecret) {
      this.role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [deploymentSecretArn(this, stage)] }));
    }
    // Queue depths for the console and alerts; redrive moves DLQ messages back to their queue.
    if (spec.deadLetters && props.dlqs) {
      const all = (Object.keys(QUEUES) as QueueName[]).flatMap((q) => [props.queues[q].queueArn, props.dlqs![q].queueArn]);
      this.role.addToPolicy(new PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: all }));
      if (spec.deadLetters === 'redrive') {
        const dlqArns = (Object.keys(QUEUES) as QueueName[]).map((q) => props.dlqs![q].queueArn);
        this.role.addToPolicy(new PolicyStatement({ actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'], resources: dlqArns }));
        for (const q of Object.keys(QUEUES) as QueueName[]) if (!spec.sendsTo.includes(q)) props.queues[q].grantSendMessages(this.fn);
      }
    }
    if (spec.publishesAlarms && props.alarmTopic) {
      // Not topic.grantPublish: with an encrypted topic it also grants kms:GenerateDataKey* (a wildcard action).
      this.role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [props.alarmTopic.topic.topicArn] }));
      // Publishing to an SSE topic needs the key's data keys; named actions, no wildcard.
      props.alarmTopic.key.grant(this.fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    }

    if (spec.consumes) {
      const c = spec.consumes;
      this.fn.addEventSource(
        new SqsEventSource(props.queues[c.queue], {
          batchSize: c.batchSize,
          maxBatchingWindow: Duration.seconds(c.maxBatchingWindowSeconds),
          ...(c.maxConcurrency ? { maxConcurrency: c.maxConcurrency } : {}),
          // One bad record must not fail (and re-deliver) its neighbours.
          reportBatchItemFailures: true,
        }),
      );
    }
  }
}
