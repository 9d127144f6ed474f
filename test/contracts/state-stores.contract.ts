/**
 * The contract every StateStores implementation passes: the in-memory twins
 * (test/unit/memory-stores.test.ts) and the DynamoDB adapters against dynalite
 * (test/integration/dynamo-stores.test.ts). Same tests, same expectations: a use-case test
 * written against the memory stores tells the truth about production.
 *
 * Each test works in its own random tenant, so one table serves the whole suite. Time is a
 * fixed clock shared with the stores; tests move it forward, never back.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../shared/errors/app-error';
import type { fixedClock } from '../../shared/ports/clock';
import { decodeWatermark, encodeWatermark, MAX_WATERMARK_IDS } from '../../shared/adapters/ekp/ekp.feed';
import type { MappingWrite } from '../../shared/ports/mapping-store';
import { newRunId, type ObjectResult } from '../../shared/ports/run-store';
import type { StateStores } from '../../shared/ports/state-stores';
import { ConflictError, MAX_WATERMARK_BYTES } from '../../shared/ports/store-common';

export type TestClock = ReturnType<typeof fixedClock>;

export interface ContractContext {
  stores: StateStores;
  clock: TestClock;
}

const DAY = 24 * 3600 * 1000;

const tenant = () => `t-${randomBytes(4).toString('hex')}`;

function person(tenantId: string, sourceId: string, neteaseId: string, extra: Partial<MappingWrite> = {}): MappingWrite {
  return { tenantId, source: 'ekp', objectType: 'person', sourceId, neteaseId, contentHash: `h-${sourceId}`, status: 'active', lastRunId: 'run-1', ...extra };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Run `n` tasks with at most `limit` in flight (dynalite on 2 cores dislikes thousands at once). */
async function pool(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

export function stateStoreContract(name: string, setup: () => Promise<ContractContext>): void {
  describe(`${name}: state store contract`, () => {
    let stores: StateStores;
    let clock: TestClock;

    beforeAll(async () => {
      ({ stores, clock } = await setup());
    });

    const newRun = async (tenantId: string, status?: 'planning' | 'awaiting_approval') => {
      const runId = newRunId(clock.now());
      return stores.runs.create({ runId, tenantId, source: 'ekp', trigger: 'schedule', mode: 'full', dryRun: false, startedAt: clock.now(), status });
    };

    // ---- mappings ------------------------------------------------------------------------

    describe('mappings', () => {
      it('reads a mapping by source id and back by NetEase id (account names case-insensitively)', async () => {
        const t = tenant();
        await stores.mappings.put(person(t, 'fd-1', 'Zhang.San'));
        await stores.mappings.put({ tenantId: t, source: 'ekp', objectType: 'department', sourceId: 'd-1', neteaseId: 'U123', contentHash: 'x', status: 'linked', adopted: true, lastRunId: 'r' });

        const fwd = await stores.mappings.get({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: 'fd-1' });
        expect(fwd).toMatchObject({ neteaseId: 'Zhang.San', status: 'active', version: 1, updatedAt: clock.now() });

        const back = await stores.mappings.findByNeteaseId(t, 'person', 'zhang.san');
        expect(back.map((m) => m.sourceId)).toEqual(['fd-1']);
        expect(back[0]?.neteaseId).toBe('Zhang.San');
        expect(await stores.mappings.findByNeteaseId(t, 'person', 'zhang.san', 'dingtalk')).toEqual([]);
        expect((await stores.mappings.findByNeteaseId(t, 'department', 'U123'))[0]).toMatchObject({ sourceId: 'd-1', adopted: true, status: 'linked' });
        // Unit ids are exact; and another tenant sees nothing.
        expect(await stores.mappings.findByNeteaseId(t, 'department', 'u123')).toEqual([]);
        expect(await stores.mappings.findByNeteaseId(tenant(), 'person', 'zhang.san')).toEqual([]);
        expect(await stores.mappings.get({ tenantId: tenant(), source: 'ekp', objectType: 'person', sourceId: 'fd-1' })).toBeUndefined();
      });

      it('keeps ids containing # and % apart, forward and reverse', async () => {
        const t = tenant();
        const ids = ['a', 'a#b', 'a%23b', 'a#', '#', '%', 'a%b#c'];
        for (const [i, id] of ids.entries()) await stores.mappings.put(person(t, id, `acct${i}`));
        for (const [i, id] of ids.entries()) {
          expect((await stores.mappings.get({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: id }))?.neteaseId).toBe(`acct${i}`);
        }
        const listed = await collect(stores.mappings.list(t, 'ekp', 'person'));
        expect(listed.map((m) => m.sourceId).sort()).toEqual([...ids].sort());
        // A NetEase id that is a prefix of another (with the separator) does not match it.
        await stores.mappings.put(person(t, 'x1', 'li#si'));
        await stores.mappings.put(person(t, 'x2', 'li'));
        expect((await stores.mappings.findByNeteaseId(t, 'person', 'li')).map((m) => m.sourceId)).toEqual(['x2']);
        expect((await stores.mappings.findByNeteaseId(t, 'person', 'li#si')).map((m) => m.sourceId)).toEqual(['x1']);
        // The longest ids allowed fit the key limits even when every character is escaped...
        const longest = '#'.repeat(160);
        await stores.mappings.put(person(t, longest, longest));
        expect((await stores.mappings.findByNeteaseId(t, 'person', longest)).map((m) => m.sourceId)).toEqual([longest]);
        expect(await stores.once.claim(t, 'op', '%'.repeat(320), 60)).toBe(true);
        // ...and longer ones are refused up front, in every implementation alike.
        await expect(stores.mappings.put(person(t, `${longest}#`, 'x'))).rejects.toBeInstanceOf(ValidationError);
        await expect(stores.once.claim(t, 'op', '%'.repeat(321), 60)).rejects.toBeInstanceOf(ValidationError);
      });

      it('pages through 1,500 mappings without losing or repeating one, and loads them all for the planner', async () => {
        const t = tenant();
        const n = 1500; // with small page limits: the paging logic, not DynamoDB's 1 MB pages, is under test
        await pool(n, 25, (i) => stores.mappings.put(person(t, `p${String(i).padStart(5, '0')}`, `user${i}`)));
        await stores.mappings.put({ tenantId: t, source: 'ekp', objectType: 'department', sourceId: 'root', neteaseId: '1', contentHash: 'r', status: 'active', lastRunId: 'r' });

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await stores.mappings.listPage(t, 'ekp', 'person', { limit: 200, cursor });
          expect(page.items.length).toBeLessThanOrEqual(200);
          seen.push(...page.items.map((m) => m.sourceId));
          cursor = page.cursor;
          pages++;
        } while (cursor);
        expect(pages).toBeGreaterThanOrEqual(8);
        expect(seen).toHaveLength(n);
        expect(new Set(seen).size).toBe(n);

        expect(await collect(stores.mappings.list(t, 'ekp', 'person', { pageSize: 400 }))).toHaveLength(n);
        const all = await stores.mappings.loadAll(t, 'ekp', { pageSize: 500 });
        expect(all.person.size).toBe(n);
        expect(all.person.get('p01234')?.neteaseId).toBe('user1234');
        expect([...all.department.keys()]).toEqual(['root']);
      });

      it('refuses a stale write with ConflictError and keeps the newer record', async () => {
        const t = tenant();
        const created = await stores.mappings.put(person(t, 'fd-9', 'wang'), { expected: { version: 0 } });
        expect(created.version).toBe(1);
        // A second create of the same object loses.
        await expect(stores.mappings.put(person(t, 'fd-9', 'wang2'), { expected: { version: 0 } })).rejects.toBeInstanceOf(ConflictError);

        const v2 = await stores.mappings.put(person(t, 'fd-9', 'wang', { contentHash: 'h2' }), { expected: { version: 1 } });
        expect(v2.version).toBe(2);
        // A writer that read version 1 is refused, by version or by content hash.
        const stale = stores.mappings.put(person(t, 'fd-9', 'wang', { contentHash: 'stale' }), { expected: { version: 1 } });
        await expect(stale).rejects.toMatchObject({ code: 'STATE.MAPPING_CONFLICT', status: 409, retryable: false });
        await expect(stores.mappings.put(person(t, 'fd-9', 'x'), { expected: { contentHash: 'h-fd-9' } })).rejects.toBeInstanceOf(ConflictError);
        await expect(stores.mappings.delete({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: 'fd-9' }, { expected: { version: 1 } })).rejects.toBeInstanceOf(ConflictError);

        const now = await stores.mappings.get({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: 'fd-9' });
        expect(now).toMatchObject({ version: 2, contentHash: 'h2' });
        // Unconditional puts still bump the version.
        expect((await stores.mappings.put(person(t, 'fd-9', 'wang', { contentHash: 'h3' }))).version).toBe(3);
        expect(await stores.mappings.delete({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: 'fd-9' }, { expected: { contentHash: 'h3' } })).toBe(true);
        expect(await stores.mappings.delete({ tenantId: t, source: 'ekp', objectType: 'person', sourceId: 'fd-9' })).toBe(false);
      });

      it('replaces the whole record, so a recovered person loses suspendedAt, and the reverse index follows a renamed account', async () => {
        const t = tenant();
        await stores.mappings.put(person(t, 'fd-2', 'old.name', { status: 'suspended', suspendedAt: clock.now(), meta: { unitName: 'Sales' } }));
        const recovered = await stores.mappings.put(person(t, 'fd-2', 'new.name'));
        expect(recovered.suspendedAt).toBeUndefined();
        expect(recovered.meta).toBeUndefined();
        expect(recovered.status).toBe('active');
        expect(await stores.mappings.findByNeteaseId(t, 'person', 'old.name')).toEqual([]);
        expect((await stores.mappings.findByNeteaseId(t, 'person', 'new.name')).map((m) => m.sourceId)).toEqual(['fd-2']);
      });

      it('refuses bad input and a cursor from another listing, writing nothing', async () => {
        const t = tenant();
        await expect(stores.mappings.put(person(t, '', 'x'))).rejects.toBeInstanceOf(ValidationError);
        await expect(stores.mappings.put({ ...person(t, 'ok', 'x'), status: 'gone' as never })).rejects.toBeInstanceOf(ValidationError);
        await expect(stores.mappings.put({ ...person(t, 'ok', 'x'), source: 'ldap' as never })).rejects.toBeInstanceOf(ValidationError);
        expect(await collect(stores.mappings.list(t, 'ekp', 'person'))).toEqual([]);

        const other = tenant();
        for (let i = 0; i < 3; i++) await stores.mappings.put(person(other, `s${i}`, `n${i}`));
        const page = await stores.mappings.listPage(other, 'ekp', 'person', { limit: 1 });
        expect(page.cursor).toBeDefined();
        await expect(stores.mappings.listPage(t, 'ekp', 'person', { limit: 1, cursor: page.cursor })).rejects.toMatchObject({ code: 'STATE.BAD_CURSOR' });
        await expect(stores.mappings.listPage(t, 'ekp', 'person', { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    // ---- watermarks ------------------------------------------------------------------------

    describe('watermarks', () => {
      it('moves only forward until cleared', async () => {
        const t = tenant();
        const w = stores.watermarks;
        expect(await w.advance(t, 'ekp', 'person', '2024-05-01 10:00:00.000', 'r1')).toBe(true);
        expect(await w.advance(t, 'ekp', 'person', '2024-05-01 09:59:59.999', 'r2')).toBe(false);
        expect(await w.get(t, 'ekp', 'person')).toMatchObject({ value: '2024-05-01 10:00:00.000', runId: 'r1' });
        expect(await w.advance(t, 'ekp', 'person', '2024-05-01 10:00:00.000', 'r3')).toBe(true); // equal: allowed
        expect(await w.advance(t, 'ekp', 'person', '2024-05-02 00:00:00.000', 'r4')).toBe(true);
        // Digit-only watermarks compare as numbers: 1000 is after 999.
        expect(await w.advance(t, 'ekp', 'department', '999', 'r1')).toBe(true);
        expect(await w.advance(t, 'ekp', 'department', '1000', 'r2')).toBe(true);
        expect(await w.advance(t, 'ekp', 'department', '998', 'r3')).toBe(false);
        expect(await w.getAll(t, 'ekp')).toMatchObject({ person: { value: '2024-05-02 00:00:00.000' }, department: { value: '1000' } });
        expect(await w.getAll(t, 'dingtalk')).toEqual({});

        expect(await w.clear(t, 'ekp', 'person')).toBe(1);
        expect(await w.get(t, 'ekp', 'person')).toBeUndefined();
        expect(await w.advance(t, 'ekp', 'person', '2020-01-01 00:00:00.000', 'r5')).toBe(true);
        expect(await w.clear(t, 'ekp')).toBe(2);
        expect(await w.getAll(t, 'ekp')).toEqual({});
      });

      it('stores an EKP watermark remembering hundreds of ids tied at its millisecond, and refuses an oversized one unchanged', async () => {
        const t = tenant();
        const w = stores.watermarks;
        // What EkpDirectorySource stores for departments: the org and dept cursors, each with
        // every fdId (32 hex) seen at the newest alterTime (ekp.feed.ts).
        const tied = (n: number) => Array.from({ length: n }, () => randomBytes(16).toString('hex'));
        const value = encodeWatermark({ org: { t: '2024-05-01 10:00:00.000', ids: tied(MAX_WATERMARK_IDS) }, dept: { t: '2024-05-01 10:00:00.000', ids: tied(MAX_WATERMARK_IDS) } });
        expect(Buffer.byteLength(value)).toBeGreaterThan(20_000);
        expect(await w.advance(t, 'ekp', 'department', value, 'r1')).toBe(true);
        expect((await w.get(t, 'ekp', 'department'))?.value).toBe(value);
        expect(decodeWatermark((await w.get(t, 'ekp', 'department'))?.value, ['org', 'dept'], 'department').dept?.ids).toHaveLength(MAX_WATERMARK_IDS);
        const later = encodeWatermark({ org: { t: '2024-05-01 10:00:00.001', ids: tied(20) }, dept: { t: '2024-05-01 10:00:00.001', ids: tied(20) } });
        expect(await w.advance(t, 'ekp', 'department', later, 'r2')).toBe(true);
        await expect(w.advance(t, 'ekp', 'department', `{"v":1,"x":"${'y'.repeat(MAX_WATERMARK_BYTES)}"}`, 'r3')).rejects.toMatchObject({ code: 'STATE.INVALID_INPUT' });
        expect(await w.get(t, 'ekp', 'department')).toMatchObject({ value: later, runId: 'r2' });
      });
    });

    // ---- runs ------------------------------------------------------------------------------

    describe('runs', () => {
      it('lists a tenant\'s runs newest first, page by page, and finds a run by id alone', async () => {
        const t = tenant();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push((await newRun(t)).runId);
          clock.advance(60_000);
        }
        const first = await stores.runs.list(t, { limit: 2 });
        const rest: string[] = [];
        let cursor = first.cursor;
        while (cursor) {
          const p = await stores.runs.list(t, { limit: 2, cursor });
          rest.push(...p.items.map((r) => r.runId));
          cursor = p.cursor;
        }
        expect([...first.items.map((r) => r.runId), ...rest]).toEqual([...ids].reverse());
        expect(await stores.runs.find(ids[2] as string)).toMatchObject({ tenantId: t, status: 'planning', counts: { created: 0 } });
        await expect(newRun(t).then((r) => stores.runs.create({ ...r, status: 'planning' }))).rejects.toBeInstanceOf(ConflictError);
      });

      it('counts 20 concurrent increments exactly', async () => {
        const t = tenant();
        const run = await newRun(t);
        await Promise.all(Array.from({ length: 20 }, () => stores.runs.increment(t, run.runId, { created: 1, updated: 2 })));
        const after = await stores.runs.get(t, run.runId);
        expect(after?.counts).toMatchObject({ created: 20, updated: 40, deleted: 0 });
      });

      it('tells exactly one worker it finished the last batch, counting duplicate deliveries once', async () => {
        const t = tenant();
        const run = await newRun(t);
        await stores.runs.transition(t, run.runId, 'planning', 'applying', { totalBatches: 5 });
        // A redelivered batch changes nothing.
        const once0 = await stores.runs.completeBatch(t, run.runId, '0', { created: 10 });
        expect(once0).toMatchObject({ duplicate: false, last: false, run: { pendingBatches: 4, counts: { created: 10 } } });
        expect(await stores.runs.completeBatch(t, run.runId, '0', { created: 10 })).toMatchObject({ duplicate: true, last: false, run: { pendingBatches: 4, counts: { created: 10 } } });
        // Batches 1-4, with 1 and 3 delivered twice, all at once.
        const deliveries = ['1', '1', '2', '3', '3', '4'];
        const results = await Promise.all(deliveries.map((b) => stores.runs.completeBatch(t, run.runId, b, { created: 10 })));
        expect(results.filter((r) => r.last)).toHaveLength(1);
        expect(results.filter((r) => r.duplicate)).toHaveLength(2);
        const final = await stores.runs.get(t, run.runId);
        expect(final).toMatchObject({ pendingBatches: 0, totalBatches: 5, completedBatches: 5, counts: { created: 50 } });
        await expect(stores.runs.completeBatch(t, run.runId, '5')).rejects.toMatchObject({ code: 'STATE.NO_PENDING_BATCH' });
      });

      it('records the last batch completed and a takeover by the recovery (progress of a run)', async () => {
        const t = tenant();
        const run = await newRun(t);
        await stores.runs.transition(t, run.runId, 'planning', 'applying', { totalBatches: 3 });
        expect((await stores.runs.get(t, run.runId))?.lastBatch).toBeUndefined();
        await stores.runs.completeBatch(t, run.runId, 'b1');
        expect(await stores.runs.get(t, run.runId)).toMatchObject({ lastBatch: 'b1', completedBatches: 1 });
        const recovery = { takeovers: 1, at: clock.now(), action: 'resent' as const, resent: 2 };
        await stores.runs.update(t, run.runId, { recovery });
        expect((await stores.runs.get(t, run.runId))?.recovery).toEqual(recovery);
        await expect(stores.runs.update(t, run.runId, { recovery: { ...recovery, action: 'nope' as 'resent' } })).rejects.toBeInstanceOf(ValidationError);
      });

      it('approves only a run awaiting approval, and only once', async () => {
        const t = tenant();
        const planning = await newRun(t);
        await expect(stores.runs.transition(t, planning.runId, 'awaiting_approval', 'applying')).rejects.toMatchObject({
          code: 'STATE.RUN_STATUS_CONFLICT',
          details: { status: 'planning' },
        });

        const parked = await newRun(t, 'awaiting_approval');
        const decision = { decision: 'approved' as const, by: 'admin@example.com', at: clock.now() };
        // An approve and a reject racing: exactly one wins.
        const race = await Promise.allSettled([
          stores.runs.transition(t, parked.runId, 'awaiting_approval', 'applying', { decision }),
          stores.runs.transition(t, parked.runId, 'awaiting_approval', 'rejected', { decision: { ...decision, decision: 'rejected' }, endedAt: clock.now() }),
        ]);
        expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const loser = race.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(loser.reason).toBeInstanceOf(ConflictError);
        const after = await stores.runs.get(t, parked.runId);
        expect(['applying', 'rejected']).toContain(after?.status);
        expect(after?.decision?.decision).toBe(after?.status === 'applying' ? 'approved' : 'rejected');

        const done = await stores.runs.transition(t, planning.runId, ['planning', 'applying'], 'success', { endedAt: clock.now(), summary: { note: '审批 ok', n: 3 } });
        expect(done).toMatchObject({ status: 'success', endedAt: clock.now(), summary: { note: '审批 ok', n: 3 } });
      });

      it('refuses to touch an unknown run instead of creating one', async () => {
        const t = tenant();
        const ghost = newRunId(clock.now());
        await expect(stores.runs.increment(t, ghost, { created: 1 })).rejects.toBeInstanceOf(NotFoundError);
        await expect(stores.runs.completeBatch(t, ghost, '0')).rejects.toBeInstanceOf(NotFoundError);
        await expect(stores.runs.transition(t, ghost, 'planning', 'applying')).rejects.toBeInstanceOf(NotFoundError);
        await expect(stores.runs.update(t, ghost, { endedAt: 1 })).rejects.toBeInstanceOf(NotFoundError);
        expect(await stores.runs.get(t, ghost)).toBeUndefined();
        await expect(stores.runs.create({ runId: 'not-sortable', tenantId: t, trigger: 'cli', mode: 'full', dryRun: false, startedAt: 0 })).rejects.toBeInstanceOf(ValidationError);
      });

      it('keeps per-object results with a 30-day TTL, listable per run with errors', async () => {
        const t = tenant();
        const run = await newRun(t);
        const at = clock.now();
        const base = { tenantId: t, runId: run.runId, objectType: 'person' as const, at };
        const stored = await stores.runs.putResult({ ...base, sourceId: 'fd-1', operation: 'createAccount', outcome: 'applied', neteaseId: 'zs' });
        expect(stored.expiresAt).toBe(Math.ceil(at / 1000) + 30 * 24 * 3600);
        await stores.runs.putResult({ ...base, sourceId: 'fd-2', operation: 'createAccount', outcome: 'failed', errorCode: 'NETEASE.DUPLICATE', message: 'account exists' });
        await stores.runs.putResult({ ...base, sourceId: 'fd#3', operation: 'moveUnit', outcome: 'skipped' });
        // A retry overwrites the same (object, operation).
        await stores.runs.putResult({ ...base, sourceId: 'fd#3', operation: 'moveUnit', outcome: 'applied' });

        const all = await collect(stores.runs.results(t, run.runId, { pageSize: 2 }));
        expect(all.map((r) => `${r.sourceId}:${r.outcome}`).sort()).toEqual(['fd#3:applied', 'fd-1:applied', 'fd-2:failed']);
        const failed = await collect(stores.runs.results(t, run.runId, { outcome: 'failed' }));
        expect(failed).toEqual([{ ...base, sourceId: 'fd-2', operation: 'createAccount', outcome: 'failed', errorCode: 'NETEASE.DUPLICATE', message: 'account exists', expiresAt: stored.expiresAt } satisfies ObjectResult]);

        clock.advance(DAY);
        const later = await newRun(t);
        await stores.runs.putResult({ ...base, runId: later.runId, sourceId: 'fd-1', operation: 'updateAccount', outcome: 'applied', at: clock.now() }, 3600);
        const history = await stores.runs.objectHistory(t, 'person', 'fd-1');
        expect(history.map((r) => r.operation)).toEqual(['updateAccount', 'createAccount']);

        clock.advance(30 * DAY);
        expect(await collect(stores.runs.results(t, run.runId))).toEqual([]);
        expect(await stores.runs.objectHistory(t, 'person', 'fd-1')).toEqual([]);
        expect(await stores.runs.get(t, run.runId)).toBeDefined(); // the run itself stays
      });
    });

    // ---- locks -----------------------------------------------------------------------------

    describe('locks', () => {
      it('excludes a second owner until the lease expires, then hands over', async () => {
        const t = tenant();
        const a = await stores.locks.acquire(t, 'sync', 'run-a', 60_000);
        expect(a.acquired).toBe(true);
        const b = await stores.locks.acquire(t, 'sync', 'run-b', 60_000);
        expect(b).toMatchObject({ acquired: false, heldBy: { owner: 'run-a' } });
        expect((await stores.locks.acquire(t, 'sync', 'run-a', 60_000)).acquired).toBe(true); // re-entrant
        expect(await stores.locks.renew(t, 'sync', 'run-b', 60_000)).toBe(false);
        expect(await stores.locks.release(t, 'sync', 'run-b')).toBe(false);
        expect((await stores.locks.acquire(tenant(), 'sync', 'run-b', 60_000)).acquired).toBe(true); // other tenants are independent

        clock.advance(60_001);
        expect(await stores.locks.get(t, 'sync')).toBeUndefined();
        expect(await stores.locks.renew(t, 'sync', 'run-a', 60_000)).toBe(false); // lost it
        expect((await stores.locks.acquire(t, 'sync', 'run-b', 60_000)).acquired).toBe(true);
        expect(await stores.locks.release(t, 'sync', 'run-a')).toBe(false);
        expect(await stores.locks.renew(t, 'sync', 'run-b', 120_000)).toBe(true);
        expect((await stores.locks.get(t, 'sync'))?.leaseUntil).toBe(clock.now() + 120_000);
        expect(await stores.locks.release(t, 'sync', 'run-b')).toBe(true);
        expect((await stores.locks.acquire(t, 'sync', 'run-c', 1000)).acquired).toBe(true);
      });

      it('lets exactly one of several concurrent acquirers in', async () => {
        const t = tenant();
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => stores.locks.acquire(t, 'sync', `run-${i}`, 60_000)));
        expect(results.filter((r) => r.acquired)).toHaveLength(1);
      });
    });

    // ---- once ------------------------------------------------------------------------------

    describe('once', () => {
      it('lets a nonce be claimed exactly once, even by concurrent requests', async () => {
        const t = tenant();
        const claims = await Promise.all(Array.from({ length: 10 }, () => stores.once.claim(t, 'nonce', 'n-1', 300)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await stores.once.claim(t, 'nonce', 'n-1', 300)).toBe(false);
        expect(await stores.once.claim(t, 'event', 'n-1', 300)).toBe(true); // namespaces are separate
        expect(await stores.once.claim(tenant(), 'nonce', 'n-1', 300)).toBe(true); // and tenants
      });

      it('lets an expired claim be claimed again', async () => {
        const t = tenant();
        expect(await stores.once.claim(t, 'event', 'ev-1', 300)).toBe(true);
        clock.advance(299_000);
        expect(await stores.once.claim(t, 'event', 'ev-1', 300)).toBe(false);
        clock.advance(2_000);
        expect(await stores.once.get(t, 'event', 'ev-1')).toBeUndefined();
        expect(await stores.once.claim(t, 'event', 'ev-1', 300)).toBe(true);
      });

      it('applies an operation once and returns its first result to a duplicate delivery', async () => {
        const t = tenant();
        const first = await stores.once.begin(t, 'op', 'op-1', { leaseSeconds: 60 });
        expect(first).toMatchObject({ status: 'acquired', attempt: 1 });
        expect(await stores.once.begin(t, 'op', 'op-1', { leaseSeconds: 60 })).toMatchObject({ status: 'busy' });
        expect(await stores.once.complete(t, 'op', 'op-1', { unitId: 'u-42' })).toEqual({ first: true, result: { unitId: 'u-42' } });
        expect(await stores.once.begin(t, 'op', 'op-1', { leaseSeconds: 60 })).toEqual({ status: 'completed', result: { unitId: 'u-42' } });
        expect(await stores.once.complete(t, 'op', 'op-1', { unitId: 'u-99' })).toEqual({ first: false, result: { unitId: 'u-42' } });
        expect(await stores.once.get(t, 'op', 'op-1')).toMatchObject({ state: 'completed', result: { unitId: 'u-42' }, attempts: 1 });
      });

      it('lets one of several concurrent deliveries start an operation', async () => {
        const t = tenant();
        const begins = await Promise.all(Array.from({ length: 6 }, () => stores.once.begin(t, 'op', 'op-c', { leaseSeconds: 60 })));
        expect(begins.filter((b) => b.status === 'acquired')).toHaveLength(1);
        expect(begins.filter((b) => b.status === 'busy')).toHaveLength(5);
      });

      it('retries an operation whose holder crashed once its lease ran out; the first completion wins', async () => {
        const t = tenant();
        const crashed = await stores.once.begin(t, 'op', 'op-2', { leaseSeconds: 30 });
        expect(crashed.status).toBe('acquired');
        clock.advance(30_000);
        const retry = await stores.once.begin(t, 'op', 'op-2', { leaseSeconds: 30 });
        expect(retry).toMatchObject({ status: 'acquired', attempt: 2 });
        // The overtaken holder was only slow and finishes first: its result stands.
        expect(await stores.once.complete(t, 'op', 'op-2', 'from-first')).toEqual({ first: true, result: 'from-first' });
        expect(await stores.once.complete(t, 'op', 'op-2', 'from-retry')).toEqual({ first: false, result: 'from-first' });
      });

      it('releases a lease early only for the token holding it', async () => {
        const t = tenant();
        const b = await stores.once.begin(t, 'op', 'op-3', { leaseSeconds: 600 });
        if (b.status !== 'acquired') throw new Error('expected acquired');
        expect(await stores.once.release(t, 'op', 'op-3', 'someone-else')).toBe(false);
        expect(await stores.once.release(t, 'op', 'op-3', b.token)).toBe(true);
        expect(await stores.once.begin(t, 'op', 'op-3', { leaseSeconds: 600 })).toMatchObject({ status: 'acquired', attempt: 1 });
      });

      it('forgets a completed operation after its TTL', async () => {
        const t = tenant();
        await stores.once.begin(t, 'op', 'op-4', { leaseSeconds: 10, ttlSeconds: 3600 });
        await stores.once.complete(t, 'op', 'op-4', 1, { ttlSeconds: 3600 });
        // TTLs are kept in whole seconds and rounded up: an item lives at least its TTL.
        clock.advance(3_599_000);
        expect(await stores.once.get(t, 'op', 'op-4')).toBeDefined();
        clock.advance(2_000);
        expect(await stores.once.get(t, 'op', 'op-4')).toBeUndefined();
        expect(await stores.once.begin(t, 'op', 'op-4', { leaseSeconds: 10 })).toMatchObject({ status: 'acquired', attempt: 1 });
      });
    });

    // ---- cache -----------------------------------------------------------------------------

    describe('cache', () => {
      it('returns a value until its TTL passes', async () => {
        const t = tenant();
        await stores.cache.put(t, 'unread', 'zhang.san', { count: 3 }, 60);
        expect(await stores.cache.get(t, 'unread', 'zhang.san')).toEqual({ count: 3 });
        expect(await stores.cache.get(tenant(), 'unread', 'zhang.san')).toBeUndefined();
        clock.advance(59_000);
        expect(await stores.cache.get(t, 'unread', 'zhang.san')).toEqual({ count: 3 });
        clock.advance(2_000);
        expect(await stores.cache.get(t, 'unread', 'zhang.san')).toBeUndefined();
        await stores.cache.put(t, 'unread', 'zhang.san', { count: 4 }, 60);
        expect(await stores.cache.get(t, 'unread', 'zhang.san')).toEqual({ count: 4 });
        await stores.cache.delete(t, 'unread', 'zhang.san');
        expect(await stores.cache.get(t, 'unread', 'zhang.san')).toBeUndefined();
        await expect(stores.cache.put(t, 'unread', 'x', () => 1, 60)).rejects.toBeInstanceOf(ValidationError);
      });
    });

    // ---- plans -----------------------------------------------------------------------------

    describe('plans', () => {
      it('stores batches too large for an SQS message and refuses ones too large for an item', async () => {
        const t = tenant();
        const runId = newRunId(clock.now());
        // ~280 KB of JSON: over SQS's 256 KB, under our 300 KB batch limit.
        const big = { ops: Array.from({ length: 1250 }, (_, i) => ({ op: 'createAccount', id: `p${i}`, name: '张'.repeat(60) })) };
        expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(256 * 1024);
        await stores.plans.putBatch(t, runId, 1, big);
        await stores.plans.putBatch(t, runId, 0, { ops: [] });
        expect(await stores.plans.getBatch(t, runId, 1)).toEqual(big);
        expect((await collect(stores.plans.batches(t, runId))).map((b) => b.seq)).toEqual([0, 1]);
        const tooBig = { ops: Array.from({ length: 2000 }, () => 'x'.repeat(200)) };
        await expect(stores.plans.putBatch(t, runId, 2, tooBig)).rejects.toMatchObject({ code: 'STATE.TOO_LARGE' });
        expect(await stores.plans.getBatch(t, runId, 2)).toBeUndefined();
      });

      it('stores a multi-megabyte plan document and replaces it whole', async () => {
        const t = tenant();
        const runId = newRunId(clock.now());
        // Random content does not compress: ~1.5 MB needs several 350 KB chunks in DynamoDB.
        const doc = { deletions: Array.from({ length: 3000 }, (_, i) => ({ id: `p${i}`, noise: randomBytes(256).toString('base64') })) };
        await stores.plans.putDocument(t, runId, 'plan', doc);
        expect(await stores.plans.getDocument(t, runId, 'plan')).toEqual(doc);
        await stores.plans.putDocument(t, runId, 'plan', { deletions: [] });
        expect(await stores.plans.getDocument(t, runId, 'plan')).toEqual({ deletions: [] });
        expect(await stores.plans.getDocument(t, runId, 'report')).toBeUndefined();
        clock.advance(31 * DAY);
        expect(await stores.plans.getDocument(t, runId, 'plan')).toBeUndefined();
      });
    });
  });
}

