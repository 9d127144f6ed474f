/** The ConsoleStore contract against dynalite, through the local stack's own DynamoDB starter. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { ensureTable, startDynalite, type RunningDynalite } from '../../local/dynamodb';
import { DynamoConsoleStore } from '../../shared/adapters/aws/dynamo-console.store';
import { fixedClock } from '../../shared/ports/clock';
import { consoleStoreContract } from '../contracts/console-store.contract';

const TABLE = 'qiye-bridge-console-test';
let dynamo: RunningDynalite;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ensureTable(client, TABLE);
  doc = DynamoDBDocumentClient.from(client);
});

afterAll(async () => {
  doc?.destroy();
  await dynamo?.stop();
});

consoleStoreContract('dynamo (dynalite)', () => {
  const clock = fixedClock(Date.UTC(2026, 0, 1));
  return { store: new DynamoConsoleStore(doc, TABLE, { clock }), clock };
});
