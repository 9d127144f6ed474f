/**
 * One dynalite server and the application's table for a test file: started before the file's
 * tests, stopped after them. Adapter tests use it to talk to DynamoDB over the real wire.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { startDynalite, type RunningDynalite } from '../../local/dynamodb';
import { createTableInput } from '../../shared/adapters/aws/table-definition';

/**
 * A document client for a loopback DynamoDB with dummy credentials. Deliberately without
 * removeUndefinedValues: the adapters must not depend on the client's marshall options.
 */
export function testDocumentClient(endpoint: string, maxAttempts?: number): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, ...(maxAttempts ? { maxAttempts } : {}) }),
  );
}

export interface DynaliteTable {
  /** Set once the file's beforeAll has run. */
  readonly doc: DynamoDBDocumentClient;
  readonly endpoint: string;
}

/** Registers beforeAll/afterAll hooks that start dynalite with `table` created, and stop it. */
export function dynaliteTable(table: string): DynaliteTable {
  let dynamo: RunningDynalite | undefined;
  const ctx = { doc: undefined as unknown as DynamoDBDocumentClient, endpoint: '' };
  beforeAll(async () => {
    dynamo = await startDynalite({ port: 0 });
    ctx.endpoint = dynamo.endpoint;
    ctx.doc = testDocumentClient(dynamo.endpoint);
    await ctx.doc.send(new CreateTableCommand(createTableInput(table)));
  });
  afterAll(async () => {
    ctx.doc?.destroy();
    await dynamo?.stop();
  });
  return ctx;
}
