/** A dynalite server on a random loopback port with the bridge's table, for adapter tests over the wire. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '../../shared/adapters/aws/table-definition';

export interface DynaliteTable {
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export async function startDynaliteTable(table: string): Promise<DynaliteTable> {
  const server: Server = dynalite({ createTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  await doc.send(new CreateTableCommand(createTableInput(table)));
  return {
    doc,
    async stop() {
      doc.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
