import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { DynamoConsoleStore } from '../../shared/adapters/aws/dynamo-console.store';
import { createTableInput } from '../../shared/adapters/aws/table-definition';
import { fixedClock } from '../../shared/ports/clock';
import { consoleStoreContract } from '../contracts/console-store.contract';

const TABLE = 'qiye-bridge-console-test';
let server: Server;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  await doc.send(new CreateTableCommand(createTableInput(TABLE)));
});

afterAll(async () => {
  doc?.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

consoleStoreContract('dynamo (dynalite)', () => {
  const clock = fixedClock(Date.UTC(2026, 0, 1));
  return { store: new DynamoConsoleStore(doc, TABLE, { clock }), clock };
});
