/**
 * One work queue and its dead-letter queue, from a QueueSpec in the app manifest.
 *
 * Secure defaults: SQS-managed server-side encryption on both queues, a queue policy that
 * denies any request not made over TLS (enforceSSL), a redrive policy with the spec's
 * maxReceiveCount, and a DLQ that only this queue may use as its dead-letter target.
 * Both are retained: a queue can hold work that has not been applied yet.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queueName, type QueueSpec } from '../../shared/contracts/app-manifest';

export interface QueueWithDlqProps {
  stage: string;
  spec: QueueSpec;
}

export class QueueWithDlq extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;
  readonly spec: QueueSpec;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const { stage, spec } = props;
    this.spec = spec;
    if (spec.dlqRetentionSeconds < spec.retentionSeconds) {
      // A message keeps its original enqueue time when it is moved to the DLQ, so a
      // shorter DLQ retention would silently drop failed work.
      throw new Error(`Queue ${spec.name}: dlqRetentionSeconds (${spec.dlqRetentionSeconds}) must be >= retentionSeconds (${spec.retentionSeconds})`);
    }

    const mainName = queueName(stage, spec.name);
    // The source queue is named by ARN, not by reference: the queue already references
    // the DLQ (redrive policy), and a reference back would be a dependency cycle.
    const sourceArn = Stack.of(this).formatArn({ service: 'sqs', resource: mainName, arnFormat: ArnFormat.NO_RESOURCE_NAME });

    this.dlq = new Queue(this, 'Dlq', {
      queueName: queueName(stage, spec.name, true),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(spec.dlqRetentionSeconds),
      redriveAllowPolicy: {
        redrivePermission: RedrivePermission.BY_QUEUE,
        sourceQueues: [Queue.fromQueueArn(this, 'SourceQueueRef', sourceArn)],
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.queue = new Queue(this, 'Queue', {
      queueName: mainName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(spec.retentionSeconds),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: spec.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
