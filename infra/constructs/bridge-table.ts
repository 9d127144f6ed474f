/**
 * The single DynamoDB table, built from shared/adapters/aws/table-definition.ts so the
 * deployed table and the local store can never disagree on keys, indexes or TTL.
 *
 * Secure, durable defaults: on-demand billing, point-in-time recovery, deletion
 * protection, retained when the stack or the resource is removed, encrypted at rest
 * (DynamoDB always encrypts; the AWS-owned key is used, no KMS cost per request).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_KEYS, TABLE_TTL_ATTRIBUTE, tableName } from '../../shared/adapters/aws/table-definition';

export interface BridgeTableProps {
  stage: string;
}

export class BridgeTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: BridgeTableProps) {
    super(scope, id);
    const str = (name: string) => ({ name, type: AttributeType.STRING });
    this.table = new TableV2(this, 'Table', {
      tableName: tableName(props.stage),
      partitionKey: str(TABLE_KEYS.partitionKey),
      sortKey: str(TABLE_KEYS.sortKey),
      billing: Billing.onDemand(),
      timeToLiveAttribute: TABLE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: TABLE_INDEXES.map((ix) => ({
        indexName: ix.indexName,
        partitionKey: str(ix.partitionKey),
        sortKey: str(ix.sortKey),
        // Same projection as createTableInput() uses for the local store.
        projectionType: ProjectionType.ALL,
      })),
    });
  }
}
