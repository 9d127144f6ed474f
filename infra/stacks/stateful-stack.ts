/**
 * Everything that holds data or identity and must survive the service stack being
 * replaced: the table, the queues and their DLQs, the tenants' (empty) secrets and, with
 * static egress, the Elastic IPs customers whitelist. All of it is retained, and the stack
 * has termination protection.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { QUEUES, type QueueName } from '../../shared/contracts/app-manifest';
import { BridgeTable } from '../constructs/bridge-table';
import { QueueWithDlq } from '../constructs/queue-with-dlq';
import { EgressAddresses } from '../constructs/static-egress';
import { DeploymentSecret, TenantSecrets } from '../constructs/tenant-secrets';

export interface StatefulStackProps extends StackProps {
  stage: string;
  tenants: readonly TenantConfig[];
  /** Allocate this many Elastic IPs for static egress (0 or undefined: none). */
  egressIpCount?: number;
}

export class StatefulStack extends Stack {
  readonly table: BridgeTable;
  readonly queues: Record<QueueName, QueueWithDlq>;
  readonly secrets: TenantSecrets;
  readonly deploymentSecret: DeploymentSecret;
  readonly egress: EgressAddresses | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const { stage } = props;

    this.table = new BridgeTable(this, 'Table', { stage });
    new CfnOutput(this, 'TableName', { key: 'TableName', value: this.table.table.tableName });

    const queues = {} as Record<QueueName, QueueWithDlq>;
    for (const spec of Object.values(QUEUES)) {
      const q = new QueueWithDlq(this, `Queue-${spec.name}`, { stage, spec });
      queues[spec.name] = q;
      const label = spec.name[0]!.toUpperCase() + spec.name.slice(1);
      new CfnOutput(this, `QueueUrl${label}`, { key: `QueueUrl${label}`, description: spec.description, value: q.queue.queueUrl });
      new CfnOutput(this, `DlqUrl${label}`, { key: `DlqUrl${label}`, value: q.dlq.queueUrl });
    }
    this.queues = queues;

    this.secrets = new TenantSecrets(this, 'TenantSecrets', { stage, tenants: props.tenants });
    this.deploymentSecret = new DeploymentSecret(this, 'DeploymentSecret', { stage });

    this.egress = props.egressIpCount ? new EgressAddresses(this, 'EgressAddresses', { stage, count: props.egressIpCount }) : undefined;
  }
}
