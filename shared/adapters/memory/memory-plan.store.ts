/**
 * In-memory PlanStore with the semantics of DynamoPlanStore (same contract suite): the same
 * batch size limit; documents are kept whole (chunking is a DynamoDB item-size concern).
 */
import type { PlanStore } from '../../ports/plan-store';
import { DEFAULT_RESULT_TTL_SECONDS } from '../../ports/store-common';
import { assertName, assertRunId, assertSeq, assertTenant, assertTtlSeconds, expiresAtFor, isExpired, toJson } from '../../ports/store-validation';
import { key, MemoryStore } from './memory-common';

const MAX_DOCUMENT_JSON_BYTES = 512 * 1024 * 1024;

interface Stored {
  json: string;
  expiresAt: number;
}

export class MemoryPlanStore extends MemoryStore implements PlanStore {
  private readonly batchesByRun = new Map<string, Map<number, Stored>>();
  private readonly documents = new Map<string, Stored>();

  async putBatch(tenantId: string, runId: string, seq: number, body: unknown, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<void> {
    check(tenantId, runId);
    assertSeq(seq);
    assertTtlSeconds(ttlSeconds);
    const json = toJson('plan batch', body);
    const k = key(tenantId, runId);
    let run = this.batchesByRun.get(k);
    if (!run) this.batchesByRun.set(k, (run = new Map()));
    run.set(seq, { json, expiresAt: expiresAtFor(this.clock.now(), ttlSeconds) });
  }

  async getBatch(tenantId: string, runId: string, seq: number): Promise<unknown> {
    check(tenantId, runId);
    assertSeq(seq);
    const b = this.batchesByRun.get(key(tenantId, runId))?.get(seq);
    return b && !isExpired(b.expiresAt, this.clock.now()) ? JSON.parse(b.json) : undefined;
  }

  async *batches(tenantId: string, runId: string): AsyncIterable<{ seq: number; body: unknown }> {
    check(tenantId, runId);
    const now = this.clock.now();
    const run = this.batchesByRun.get(key(tenantId, runId)) ?? new Map<number, Stored>();
    for (const [seq, b] of [...run.entries()].sort((a, z) => a[0] - z[0])) {
      if (!isExpired(b.expiresAt, now)) yield { seq, body: JSON.parse(b.json) };
    }
  }

  async putDocument(tenantId: string, runId: string, name: string, value: unknown, ttlSeconds: number = DEFAULT_RESULT_TTL_SECONDS): Promise<void> {
    check(tenantId, runId);
    assertName('document name', name);
    assertTtlSeconds(ttlSeconds);
    this.documents.set(key(tenantId, runId, name), { json: toJson('plan document', value, MAX_DOCUMENT_JSON_BYTES), expiresAt: expiresAtFor(this.clock.now(), ttlSeconds) });
  }

  async getDocument(tenantId: string, runId: string, name: string): Promise<unknown> {
    check(tenantId, runId);
    assertName('document name', name);
    const d = this.documents.get(key(tenantId, runId, name));
    return d && !isExpired(d.expiresAt, this.clock.now()) ? JSON.parse(d.json) : undefined;
  }
}

function check(tenantId: string, runId: string): void {
  assertTenant(tenantId);
  assertRunId(runId);
}
