/**
 * PlanStore on the single table: a run's partition `T#{t}#PLAN#{runId}` holds
 * - batch items `B#{seq}` (JSON ≤ MAX_VALUE_BYTES, below DynamoDB's 400 KB item limit), which
 *   the SQS message only references: SQS messages stop at 256 KB;
 * - documents of any size: the JSON is gzip-compressed, split into ≤ 350,000-byte binary
 *   chunks `D#{name}#{writeId}#{i}` and committed by the header `D#{name}` written LAST
 *   (chunk count, size, sha256, writeId). Without transactions this is how a reader never
 *   sees a half-written document: until the header points at a write, its chunks are
 *   invisible. A rewrite uses a new writeId; the previous write's chunks are deleted after
 *   the new header is in place (and would expire with their TTL anyway).
 */
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { PlanStore } from '../../ports/plan-store';
import { DEFAULT_RESULT_TTL_SECONDS, StateStoreError } from '../../ports/store-common';
import { assertName, assertRunId, assertSeq, assertTenant, assertTtlSeconds, expiresAtFor, isExpired, toJson } from '../../ports/store-validation';
import { DynamoStore, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

/** Bytes per document chunk: the item (keys + attribute names + chunk) stays under 400 KB. */
export const PLAN_CHUNK_BYTES = 350_000;
/** Upper bound for a document's JSON before compression (sanity, not a DynamoDB limit). */
const MAX_DOCUMENT_JSON_BYTES = 512 * 1024 * 1024;
const WRITE_CONCURRENCY = 4;

export class DynamoPlanStore extends DynamoStore implements PlanStore {
  async putBatch(tenantId: string, runId: string, seq: number, body: unknown, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<void> {
    check(tenantId, runId);
    assertSeq(seq);
    assertTtlSeconds(ttlSeconds);
    const bodyJson = toJson('plan batch', body);
    await this.table.putExpiring('plan putBatch', { ...keys.planBatch(tenantId, runId, seq), tenantId, runId, seq, bodyJson }, ttlSeconds);
  }

  async getBatch(tenantId: string, runId: string, seq: number): Promise<unknown> {
    check(tenantId, runId);
    assertSeq(seq);
    const out = await this.table.send<GetCommandOutput>(
      'plan getBatch',
      new GetCommand({ TableName: this.table.tableName, Key: keys.planBatch(tenantId, runId, seq), ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || isExpired(item.expiresAt as number, this.table.clock.now())) return undefined;
    return JSON.parse(item.bodyJson as string);
  }

  async *batches(tenantId: string, runId: string): AsyncIterable<{ seq: number; body: unknown }> {
    check(tenantId, runId);
    const now = this.table.clock.now();
    for await (const item of this.table.queryAll('plan batches', {
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :b)',
      ExpressionAttributeValues: { ':p': keys.planPartition(tenantId, runId), ':b': keys.planBatchPrefix },
      ConsistentRead: true,
    })) {
      if (isExpired(item.expiresAt as number, now)) continue;
      yield { seq: item.seq as number, body: JSON.parse(item.bodyJson as string) };
    }
  }

  async putDocument(tenantId: string, runId: string, name: string, value: unknown, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<void> {
    check(tenantId, runId);
    assertName('document name', name);
    assertTtlSeconds(ttlSeconds);
    const gz = gzipSync(Buffer.from(toJson('plan document', value, MAX_DOCUMENT_JSON_BYTES), 'utf8'));
    const writeId = randomBytes(6).toString('hex');
    const expiresAt = expiresAtFor(this.table.clock.now(), ttlSeconds);
    const previous = await this.header(tenantId, runId, name);
    const count = Math.max(1, Math.ceil(gz.length / PLAN_CHUNK_BYTES));
    await inParallel(count, WRITE_CONCURRENCY, (i) =>
      this.table.send(
        'plan putDocument',
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.planChunk(tenantId, runId, name, writeId, i), data: gz.subarray(i * PLAN_CHUNK_BYTES, (i + 1) * PLAN_CHUNK_BYTES), expiresAt },
        }),
      ),
    );
    // The commit point: readers follow the header, written only after every chunk.
    await this.table.send(
      'plan putDocument',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.planDocument(tenantId, runId, name), tenantId, runId, name, writeId, chunks: count, bytes: gz.length, sha256: sha256(gz), expiresAt },
      }),
    );
    if (previous && previous.writeId !== writeId) {
      const old = previous;
      await inParallel(old.chunks as number, WRITE_CONCURRENCY, (i) =>
        this.table.send('plan putDocument cleanup', new DeleteCommand({ TableName: this.table.tableName, Key: keys.planChunk(tenantId, runId, name, old.writeId as string, i) })),
      );
    }
  }

  async getDocument(tenantId: string, runId: string, name: string): Promise<unknown> {
    check(tenantId, runId);
    assertName('document name', name);
    // A rewrite between reading the header and its chunks can delete them: read again once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const head = await this.header(tenantId, runId, name);
      if (!head || isExpired(head.expiresAt as number, this.table.clock.now())) return undefined;
      const parts: Uint8Array[] = [];
      for await (const item of this.table.queryAll('plan getDocument', {
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':p': keys.planPartition(tenantId, runId), ':c': keys.planChunkPrefix(name, head.writeId as string) },
        ConsistentRead: true,
      })) {
        parts.push(item.data as Uint8Array);
      }
      const gz = Buffer.concat(parts);
      if (parts.length === head.chunks && gz.length === head.bytes && sha256(gz) === head.sha256) {
        return JSON.parse(gunzipSync(gz).toString('utf8'));
      }
    }
    throw new StateStoreError('STATE.DOCUMENT_INCOMPLETE', `plan document ${name} of run ${runId} does not match its header`, { retryable: true });
  }

  private async header(tenantId: string, runId: string, name: string): Promise<Item | undefined> {
    const out = await this.table.send<GetCommandOutput>(
      'plan getDocument',
      new GetCommand({ TableName: this.table.tableName, Key: keys.planDocument(tenantId, runId, name), ConsistentRead: true }),
    );
    return out.Item;
  }
}

function check(tenantId: string, runId: string): void {
  assertTenant(tenantId);
  assertRunId(runId);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Run `task(0..count-1)` with at most `limit` in flight. */
async function inParallel(count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
