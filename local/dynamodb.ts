/**
 * The local DynamoDB: dynalite on LevelDB under the data folder, and the one table from
 * shared/adapters/aws/table-definition.ts.
 *
 * dynalite gaps (toolchain.md §3): no TransactWriteItems (our writes are single-item
 * conditional writes, so nothing needs them), no UpdateTimeToLive and no TTL sweeping
 * (readers treat items whose `expiresAt` has passed as absent, as they must in AWS too,
 * where TTL deletion lags by up to days), no streams.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import dynalite from 'dynalite';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../shared/adapters/aws/table-definition';
import { AppError } from '../shared/errors/app-error';

export interface RunningDynalite {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Start dynalite on `host:port` (0 = free port), persisted under `path` (in memory when absent). */
export async function startDynalite(options: { path?: string; port: number; host?: string }): Promise<RunningDynalite> {
  const host = options.host ?? '127.0.0.1';
  if (options.path) await mkdir(options.path, { recursive: true });
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(options.port, host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    throw listenError('dynalite (local DynamoDB)', host, options.port, 'QIYE_DYNAMODB_PORT', err);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // Idle keep-alive sockets from SDK clients would hold close() open.
        server.closeIdleConnections();
        server.close((err) => (err ? reject(err) : resolve()));
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}

/**
 * Create the table if it does not exist; if it does, check that its keys and indexes
 * match the definition.
 * @returns 'created' or 'exists'
 * @throws AppError LOCAL.TABLE_MISMATCH describing the difference and how to reset.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, dataPath?: string): Promise<'created' | 'exists'> {
  const existing = await describe(client, tableName);
  const wanted = createTableInput(tableName);
  if (!existing) {
    await client.send(new CreateTableCommand(wanted));
    await waitActive(client, tableName);
    return 'created';
  }
  const problems = compareTable(existing, wanted);
  if (problems.length > 0) {
    throw new AppError(
      'LOCAL.TABLE_MISMATCH',
      `Table "${tableName}"${dataPath ? ` in ${dataPath}` : ''} does not match shared/adapters/aws/table-definition.ts:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nThe local store cannot migrate it. Delete ${dataPath ?? 'the local table'} to recreate it (this erases local data).`,
    );
  }
  await waitActive(client, tableName);
  return 'exists';
}

/** Differences between a described table and the CreateTable input, as sentences. */
export function compareTable(actual: TableDescription, wanted: ReturnType<typeof createTableInput>): string[] {
  const problems: string[] = [];
  const keys = (ks: ReadonlyArray<{ AttributeName?: string; KeyType?: string }> | undefined) => (ks ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  if (keys(actual.KeySchema) !== keys(wanted.KeySchema)) {
    problems.push(`key schema is ${keys(actual.KeySchema) || '(none)'}, expected ${keys(wanted.KeySchema)}`);
  }
  const types = new Map((actual.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  for (const a of wanted.AttributeDefinitions) {
    const t = types.get(a.AttributeName);
    if (t && t !== a.AttributeType) problems.push(`attribute ${a.AttributeName} has type ${t}, expected ${a.AttributeType}`);
  }
  const actualIx = new Map((actual.GlobalSecondaryIndexes ?? []).map((ix) => [ix.IndexName, ix]));
  for (const ix of wanted.GlobalSecondaryIndexes) {
    const got = actualIx.get(ix.IndexName);
    if (!got) {
      problems.push(`index ${ix.IndexName} is missing`);
      continue;
    }
    if (keys(got.KeySchema) !== keys(ix.KeySchema)) problems.push(`index ${ix.IndexName} keys are ${keys(got.KeySchema)}, expected ${keys(ix.KeySchema)}`);
    if (got.Projection?.ProjectionType !== ix.Projection.ProjectionType) {
      problems.push(`index ${ix.IndexName} projects ${got.Projection?.ProjectionType}, expected ${ix.Projection.ProjectionType}`);
    }
    actualIx.delete(ix.IndexName);
  }
  for (const name of actualIx.keys()) problems.push(`index ${name} is not in the definition`);
  return problems;
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const t = await describe(client, tableName);
    if (t?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new AppError('LOCAL.TABLE_NOT_ACTIVE', `Table "${tableName}" did not become ACTIVE`);
}

/** A clear message for a server that could not listen (port taken, no permission). */
export function listenError(what: string, host: string, port: number, envVar: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use (is another \`npm start\` running? set ${envVar} to use another port)`
      : code === 'EACCES'
        ? `no permission to listen on port ${port} (set ${envVar})`
        : (err as Error).message;
  return new AppError('LOCAL.LISTEN_FAILED', `Cannot start ${what} on ${host}:${port}: ${reason}`, { cause: err });
}
