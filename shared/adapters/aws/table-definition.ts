/**
 * The single DynamoDB table: keys, indexes and TTL attribute. The CDK stateful stack and
 * the local stack's embedded store are both created from this definition.
 *
 * Single-table design, every item keyed by tenant:
 * - `pk` / `sk`: the item's own key, e.g. pk `T#<tenant>#MAP#user`, sk `src#<sourceId>`.
 * - `gsi1pk` / `gsi1sk`: the reverse view where one is needed (NetEase id -> source id).
 * - `expiresAt`: epoch seconds; DynamoDB deletes expired items (TTL). The local store
 *   (dynalite) does not implement TTL, so readers must also treat expired items as absent.
 *
 * Writes are single-item conditional writes: the embedded store has no transactions.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export const TABLE_TTL_ATTRIBUTE = 'expiresAt';

export interface IndexSpec {
  indexName: string;
  partitionKey: string;
  sortKey: string;
}

export const TABLE_INDEXES: readonly IndexSpec[] = [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }];

export function tableName(stage: string): string {
  return `qiye-bridge-${stage}`;
}

/** The CreateTable input (on-demand) for the local store and for tests. */
export function createTableInput(name: string) {
  const attrs = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const ix of TABLE_INDEXES) {
    attrs.add(ix.partitionKey);
    attrs.add(ix.sortKey);
  }
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((ix) => ({
      IndexName: ix.indexName,
      KeySchema: [
        { AttributeName: ix.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: ix.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
