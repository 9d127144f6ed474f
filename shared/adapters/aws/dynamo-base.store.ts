/**
 * What every dynamo-*.store.ts shares: sending commands with errors mapped to our errors,
 * conditional writes answered as booleans, paging with opaque cursors, and the item
 * helpers (no undefined attributes, expiry on read).
 *
 * Error mapping (the SDK has already retried throttles `maxAttempts` times when we see one):
 * - ConditionalCheckFailedException -> `{ ok: false }` from `write()`; callers turn it into
 *   a domain answer (false, ConflictError).
 * - throttling, 5xx, network resets and timeouts -> StateStoreError STATE.UNAVAILABLE,
 *   retryable (the SQS record fails and is retried).
 * - a missing table, refused credentials, a request DynamoDB rejects (item over 400 KB,
 *   bad key) -> StateStoreError, not retryable: retrying cannot help.
 */
import type { DynamoDBDocumentClient, QueryCommandInput, QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors/app-error';
import { systemClock, type Clock } from '../../ports/clock';
import { StateStoreError, type Page, type PageOptions } from '../../ports/store-common';
import { assertPageLimit, decodePageCursor, encodePageCursor, expiresAtFor } from '../../ports/store-validation';

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Map an SDK / network error to a StateStoreError (never includes item values). */
export function mapDynamoError(err: unknown, what: string): StateStoreError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  // Messages from DynamoDB describe the request (sizes, key names), not item values; keep them short.
  const detail = `${name}${e.message ? `: ${e.message.slice(0, 200)}` : ''}`;
  if (name === 'ResourceNotFoundException') {
    return new StateStoreError('STATE.TABLE_MISSING', `DynamoDB ${what}: table not found (${detail})`, { retryable: false, cause: err });
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return new StateStoreError('STATE.ACCESS_DENIED', `DynamoDB ${what}: access denied (${name})`, { retryable: false, cause: err });
  }
  if (name === 'ValidationException' || name === 'ItemCollectionSizeLimitExceededException' || name === 'SerializationException') {
    return new StateStoreError('STATE.REQUEST_REJECTED', `DynamoDB ${what} rejected: ${detail}`, { retryable: false, cause: err });
  }
  const retryable =
    RETRYABLE_NAMES.has(name) || (status !== undefined && status >= 500) || Boolean(e.$retryable) || (e.code !== undefined && NETWORK_CODES.has(e.code)) || status === undefined;
  return new StateStoreError(retryable ? 'STATE.UNAVAILABLE' : 'STATE.FAILED', `DynamoDB ${what} failed: ${detail}`, { retryable, cause: err });
}

export function isConditionFailed(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

/**
 * A record read back from an item this adapter wrote (from a validated record): its
 * `required` attributes, and its `optional` ones where present (left out, not undefined,
 * where absent). The attributes are trusted as typed, as the stores' own items.
 */
export function fromItem<T>(item: Item, required: ReadonlyArray<keyof T & string>, optional: ReadonlyArray<keyof T & string> = []): T {
  const out: Item = {};
  for (const k of required) out[k] = item[k];
  for (const k of optional) if (item[k] !== undefined) out[k] = item[k];
  return out as T;
}

/** Remove undefined attributes, so the adapters work whatever the client's marshall options. */
export function compact<T extends Record<string, unknown>>(item: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = v;
  return out as T;
}

export type Item = Record<string, unknown>;

// `send` is overloaded per command in the SDK (and Parameters<> picks one overload); any
// lib-dynamodb command object is accepted here and the caller names the output type.
type Sendable = { readonly input: object };

/** The table, the client and the clock, shared by the stores of one function. */
export class DynamoTable {
  readonly clock: Clock;

  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    clock: Clock = systemClock,
  ) {
    if (!tableName) throw new ValidationError('a DynamoDB table name is required', { code: 'STATE.INVALID_INPUT' });
    this.clock = clock;
  }

  /** Send a command; every failure becomes a StateStoreError. */
  async send<O>(what: string, command: Sendable): Promise<O> {
    try {
      return (await this.client.send(command as never)) as O;
    } catch (err) {
      throw mapDynamoError(err, what);
    }
  }

  /** Put `item` (unconditionally), expiring `ttlSeconds` from now: its `expiresAt` is the table's TTL attribute. */
  async putExpiring(what: string, item: Item, ttlSeconds: number): Promise<void> {
    await this.send(what, new PutCommand({ TableName: this.tableName, Item: { ...item, expiresAt: expiresAtFor(this.clock.now(), ttlSeconds) } }));
  }

  /** Send a conditional write: `{ ok: false }` when its condition failed. */
  async write<O>(what: string, command: Sendable): Promise<{ ok: true; out: O } | { ok: false }> {
    try {
      return { ok: true, out: (await this.client.send(command as never)) as O };
    } catch (err) {
      if (isConditionFailed(err)) return { ok: false };
      throw mapDynamoError(err, what);
    }
  }

  /**
   * One page of a partition's items (pk = `partition`) in sort-key order (`newestFirst`:
   * reversed), each mapped by `map`; the items it answers undefined for (expired ones) are
   * dropped. The page size is checked (assertPageLimit). The cursor names the partition: a
   * cursor from another listing (another tenant's, say) is refused rather than used as a
   * start key.
   */
  async partitionPage<T>(what: string, partition: string, options: PageOptions, map: (item: Item) => T | undefined, order: { newestFirst?: boolean; consistentRead?: boolean } = {}): Promise<Page<T>> {
    const out = await this.send<QueryCommandOutput>(
      what,
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': partition },
        ...(order.newestFirst ? { ScanIndexForward: false } : {}),
        ...(order.consistentRead ? { ConsistentRead: true } : {}),
        Limit: assertPageLimit(options.limit),
        ExclusiveStartKey: options.cursor === undefined ? undefined : decodeCursor(partition, options.cursor),
      }),
    );
    const items: T[] = [];
    for (const raw of (out.Items ?? []) as Item[]) {
      const v = map(raw);
      if (v !== undefined) items.push(v);
    }
    return out.LastEvaluatedKey ? { items, cursor: encodeCursor(partition, out.LastEvaluatedKey) } : { items };
  }

  /** Every item of a Query, page by page (pages of `pageSize`, or DynamoDB's 1 MB). */
  async *queryAll(what: string, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>, pageSize?: number): AsyncGenerator<Item> {
    let start: Record<string, unknown> | undefined;
    do {
      const out: QueryCommandOutput = await this.send<QueryCommandOutput>(
        what,
        new QueryCommand({ ...input, TableName: this.tableName, Limit: pageSize, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) yield item as Item;
      start = out.LastEvaluatedKey;
    } while (start);
  }
}

/** The base of every Dynamo*Store: the table (client, name, clock) its items live in. */
export abstract class DynamoStore {
  protected readonly table: DynamoTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: { clock?: Clock } = {}) {
    this.table = new DynamoTable(client, tableName, options.clock);
  }
}

export function encodeCursor(partition: string, lastKey: Record<string, unknown>): string {
  return encodePageCursor(partition, lastKey);
}

export function decodeCursor(partition: string, cursor: string): Record<string, string> {
  return decodePageCursor(partition, cursor, isDynamoKey);
}

/** A DynamoDB key we wrote: at most 4 string attributes. */
function isDynamoKey(k: unknown): k is Record<string, string> {
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return false;
  const values = Object.values(k);
  return values.length <= 4 && values.every((v) => typeof v === 'string');
}

/** Expression pieces with every attribute name aliased (many of ours are reserved words: status, source...). */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private n = 0;
  private v = 0;

  name(attr: string): string {
    const found = Object.entries(this.names).find(([, a]) => a === attr);
    if (found) return found[0];
    const alias = `#n${this.n++}`;
    this.names[alias] = attr;
    return alias;
  }

  value(v: unknown): string {
    const alias = `:v${this.v++}`;
    this.values[alias] = v;
    return alias;
  }

  /** `SET a = :x, ... ADD c :n ... REMOVE d, ...` from plain objects (undefined in `set` means REMOVE). */
  update(set: Record<string, unknown>, add: Record<string, unknown> = {}, extraSet: string[] = []): string {
    const sets = [...extraSet];
    const removes: string[] = [];
    for (const [k, v] of Object.entries(set)) {
      if (v === undefined) removes.push(this.name(k));
      else sets.push(`${this.name(k)} = ${this.value(v)}`);
    }
    const adds = Object.entries(add).map(([k, v]) => `${this.name(k)} ${this.value(v)}`);
    return [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
  }

  /** The names/values for a command (omitted when empty: DynamoDB rejects empty maps). */
  attrs(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}
