/**
 * The two additions to the sync engine the callback worker relies on:
 * - startSyncRun({ changes }): an incremental run on a caller-made changes view, read under
 *   the tenant's lock once the run exists, without touching watermarks;
 * - follow-ups: requestFollowUp records a message on the lock's holder, and every release of
 *   the tenant (finalize, empty plan, dry run, planning failure, reject, import, sweep)
 *   sends it right after releasing.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors/app-error';
import { newRunId } from '../../shared/ports/run-store';
import {
  finalizeRun,
  rejectRun,
  requestFollowUp,
  startSyncRun,
  SYNC_LOCK,
  type FollowUpMessage,
} from '../../shared/use-cases/sync';
import { dingtalkTenant, seededWorld, T0 } from './callback-worker-fixtures';

const DRAIN: FollowUpMessage = { queue: 'callback', body: { v: 1, kind: 'drain', tenantId: 'acme' } };
const none = { departments: [], people: [], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} };

function world(tenant = dingtalkTenant()) {
  return seededWorld([['u1', '张三']], { tenant });
}

describe('startSyncRun with given changes', () => {
  it('plans exactly the given view as an incremental run and stores no watermark', async () => {
    const w = await world();
    const u1 = { ...w.source.people.get('u1')!, displayName: '张三丰' };
    const { run } = await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: { ...none, people: [u1], watermarks: { person: '999' } } });
    expect(run).toMatchObject({ mode: 'incremental', trigger: 'callback', status: 'applying', totalBatches: 1 });
    expect((await w.plan(run.runId)).operations.map((o) => o.kind)).toEqual(['account.update']);
    expect(await w.stores.watermarks.getAll('acme', 'dingtalk')).toEqual({});
  });

  it('reads a changes function under the lock, once the run exists', async () => {
    const w = await world();
    let seen: { runId: string; held?: string; run?: string } | undefined;
    const { run } = await startSyncRun(w.sync, {
      tenantId: 'acme',
      trigger: 'callback',
      changes: async (ctx) => {
        seen = { runId: ctx.runId, held: (await w.stores.locks.get('acme', SYNC_LOCK))?.owner, run: (await w.stores.runs.get('acme', ctx.runId))?.status };
        expect(ctx.source).toBe(w.source);
        return none;
      },
    });
    expect(seen).toEqual({ runId: run.runId, held: run.runId, run: 'planning' });
    expect(run.status).toBe('success');
  });

  it('refuses changes with mode full and takes nothing', async () => {
    const w = await world();
    await expect(startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', mode: 'full', changes: none })).rejects.toBeInstanceOf(ValidationError);
    expect(await w.stores.locks.get('acme', SYNC_LOCK)).toBeUndefined();
  });
});

describe('follow-ups on release', () => {
  it('nothing is sent when nobody asked', async () => {
    const w = await world();
    await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: none });
    expect(w.queue.sent).toEqual([]);
  });

  it('an empty plan, a dry run and a planning failure each send the follow-up asked of them', async () => {
    const w = await world();
    const ask = (ctx: { runId: string }) => requestFollowUp(w.sync, 'acme', ctx.runId, DRAIN);
    await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: async (ctx) => (await ask(ctx), none) });
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);
    await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', dryRun: true, changes: async (ctx) => (await ask(ctx), none) });
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);
    await expect(
      startSyncRun(w.sync, {
        tenantId: 'acme',
        trigger: 'callback',
        changes: async (ctx) => {
          await ask(ctx);
          throw new Error('source down');
        },
      }),
    ).rejects.toThrow('source down');
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);
    expect(await w.stores.locks.get('acme', SYNC_LOCK)).toBeUndefined();
  });

  it('the last batch finalizing a run releases the tenant and then sends the follow-up', async () => {
    const w = await world();
    const u1 = { ...w.source.people.get('u1')!, displayName: '改名' };
    const { run } = await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: { ...none, people: [u1] } });
    await requestFollowUp(w.sync, 'acme', run.runId, DRAIN);
    // What the sync worker does for the run's only batch.
    await w.stores.runs.completeBatch('acme', run.runId, `${run.runId}:0`, { updated: 1 });
    let lockAtSend: string | undefined = 'unknown';
    const send = w.queue.send.bind(w.queue);
    w.queue.send = async (q, m) => {
      lockAtSend = (await w.stores.locks.get('acme', SYNC_LOCK))?.owner;
      return send(q, m);
    };
    expect((await finalizeRun(w.sync, 'acme', run.runId))!.status).toBe('success');
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);
    expect(lockAtSend).toBeUndefined();
  });

  it('rejecting a parked run sends its follow-up; a swept stale run\'s follow-up is sent by the run that sweeps it', async () => {
    const w = await world(dingtalkTenant('acme', { deleteThreshold: { count: 0, percent: 0 } }));
    const parked = await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: { ...none, deletedPersonIds: ['u1'] } });
    expect(parked.run.status).toBe('awaiting_approval');
    await requestFollowUp(w.sync, 'acme', parked.run.runId, DRAIN);
    await rejectRun(w.sync, { tenantId: 'acme', runId: parked.run.runId, by: 'ops' });
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);

    // A run that stopped making progress: its lease runs out, the next run sweeps it.
    const staleId = newRunId(T0, 'stale001');
    await w.stores.runs.create({ runId: staleId, tenantId: 'acme', source: 'dingtalk', trigger: 'callback', mode: 'incremental', dryRun: false, startedAt: T0, status: 'applying' });
    await w.stores.locks.acquire('acme', SYNC_LOCK, staleId, 1000);
    await requestFollowUp(w.sync, 'acme', staleId, DRAIN);
    w.clock.advance(5000);
    await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: none });
    expect((await w.stores.runs.get('acme', staleId))!.status).toBe('failed');
    expect(w.queue.take('callback')).toEqual([DRAIN.body]);
  });

  it('a follow-up that cannot be sent is logged, never thrown: the release has happened', async () => {
    const w = await world();
    w.queue.send = async () => {
      throw new Error('queue down');
    };
    const { run } = await startSyncRun(w.sync, { tenantId: 'acme', trigger: 'callback', changes: async (ctx) => (await requestFollowUp(w.sync, 'acme', ctx.runId, DRAIN), none) });
    expect(run.status).toBe('success');
    expect(await w.stores.locks.get('acme', SYNC_LOCK)).toBeUndefined();
    expect(w.logger.lines.some((l) => l.msg === 'follow-up not sent')).toBe(true);
  });

  it('the first request per holder wins; an unknown queue is refused', async () => {
    const w = await world();
    await requestFollowUp(w.sync, 'acme', 'owner-1', DRAIN);
    await requestFollowUp(w.sync, 'acme', 'owner-1', { queue: 'sync', body: { other: true } });
    expect((await w.stores.once.get('acme', 'followup', 'owner-1'))!.result).toEqual(DRAIN);
    await expect(requestFollowUp(w.sync, 'acme', 'owner-2', { queue: 'nope' as never, body: {} })).rejects.toThrow(/unknown queue/);
  });
});
