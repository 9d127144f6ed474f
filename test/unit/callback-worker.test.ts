/**
 * The callback worker's use case (apply-contact-events.ts, re-read-changes.ts) on in-memory
 * ports: what is recorded, re-read, planned, cleared, deferred and retried. The same flows
 * over HTTP with the vendor simulators are in test/integration/callback-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { makeHandler as makeCallbackWorker } from '../../functions/queue/callback-worker/handler';
import { UpstreamError, ValidationError } from '../../shared/errors/app-error';
import { SYNC_LOCK, releaseRun } from '../../shared/use-cases/sync';
import { FOLLOW_UP_NAMESPACE } from '../../shared/use-cases/sync/run-lifecycle';
import { marksOf } from '../../shared/use-cases/callbacks/apply-contact-events';
import { createWorld, department, dingtalkTenant, event, ops, person, seededWorld } from './callback-worker-fixtures';
import type { CallbackWorkerOptions } from '../../shared/use-cases/callbacks/apply-contact-events';

const RUN_HOLDING = '20240506T015900000Z-holder01';

function seeded(options: Partial<CallbackWorkerOptions> = {}) {
  return seededWorld([['u1', '张三'], ['u2', '李四']], { options });
}

describe('recording and applying contact events', () => {
  it('a name change is re-read from the source and planned as one account update; the dirty id is cleared', async () => {
    const w = await seeded();
    w.source.people.get('u1')!.displayName = '张三丰';
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]));
    expect(res.failures).toEqual([]);
    expect(res.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', outcome: 'started', consumed: 1 })]);
    const plan = await w.plan(res.tenants[0]!.runId!);
    expect(plan.mode).toBe('changes');
    expect(ops(plan)).toEqual(['account.update u1']);
    expect(w.source.reads).toEqual(['person:u1']);
    expect(w.queue.on('sync')).toHaveLength(1);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
    const run = await w.stores.runs.get('acme', res.tenants[0]!.runId!);
    expect(run).toMatchObject({ trigger: 'callback', mode: 'incremental', status: 'applying' });
  });

  it('an event whose object did not change plans nothing and sends nothing to NetEase', async () => {
    const w = await seeded();
    const res = await w.process(event('acme', 'user_modify_org', [person('u1'), person('u2')]));
    const plan = await w.plan(res.tenants[0]!.runId!);
    expect(plan.status).toBe('empty');
    expect(w.queue.on('sync')).toEqual([]);
    expect((await w.stores.runs.get('acme', res.tenants[0]!.runId!))!.status).toBe('success');
  });

  it('a callback for a person the source no longer has, and whom we never mapped, creates nothing', async () => {
    const w = await seeded();
    const res = await w.process(event('acme', 'user_add_org', [person('ghost')]));
    const plan = await w.plan(res.tenants[0]!.runId!);
    expect(plan.operations).toEqual([]);
    expect(w.source.reads).toEqual(['person:ghost']);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
  });

  it('a mapped person the source no longer has (user_leave_org) is suspended, not deleted', async () => {
    const w = await seeded();
    w.source.people.delete('u2');
    const res = await w.process(event('acme', 'user_leave_org', [person('u2', 'delete')]));
    expect(ops(await w.plan(res.tenants[0]!.runId!))).toEqual(['account.suspend u2']);
  });

  it('a delete event for a person the source still has is applied as the source says (an out-of-order leave)', async () => {
    const w = await seeded();
    const res = await w.process(event('acme', 'user_leave_org', [person('u2', 'delete')]));
    expect((await w.plan(res.tenants[0]!.runId!)).operations).toEqual([]);
  });

  it('a new person in a department created a moment ago is placed by reading that department (events out of order)', async () => {
    const w = await seeded();
    w.source.departments.set('9', { id: '9', name: 'New Lab', parentId: '2', order: 5, status: 'active' });
    w.source.putPerson({ id: 'u9', displayName: '王五', departmentIds: ['9'] });
    const res = await w.process(event('acme', 'user_add_org', [person('u9')]));
    expect(ops(await w.plan(res.tenants[0]!.runId!))).toEqual(['account.create u9', 'unit.create 9']);
    expect(w.source.reads).toEqual(['person:u9', 'department:9']);
  });

  it('department create, rename and removal', async () => {
    const w = await seeded();
    w.source.departments.set('3', { id: '3', name: 'Sales', parentId: '1', order: 3, status: 'active' });
    w.source.departments.get('2')!.name = 'Research';
    const a = await w.process(event('acme', 'org_dept_create', [department('3')]), event('acme', 'org_dept_modify', [department('2')]));
    expect(ops(await w.plan(a.tenants[0]!.runId!))).toEqual(['unit.create 3', 'unit.update 2']);

    // Applied meanwhile (the run's lock released), a removal of a department we map and one we never did:
    await releaseRun(w.sync, 'acme', a.tenants[0]!.runId!);
    await w.stores.runs.transition('acme', a.tenants[0]!.runId!, 'applying', 'success');
    w.source.departments.delete('2');
    w.source.people.get('u1')!.departmentIds = ['1'];
    w.source.people.get('u2')!.departmentIds = ['1'];
    const b = await w.process(event('acme', 'org_dept_remove', [department('2', 'delete'), department('77', 'delete')]), event('acme', 'user_modify_org', [person('u1'), person('u2')]));
    expect(ops(await w.plan(b.tenants[0]!.runId!))).toEqual(['account.move u1', 'account.move u2', 'unit.delete 2']);
  });

  it('each id is recorded once however many events name it, and read once per run', async () => {
    const w = await seeded();
    const many = Array.from({ length: 10 }, () => event('acme', 'user_modify_org', [person('u1'), person('u2')]));
    const res = await w.process(...many);
    expect(res.tenants).toHaveLength(1);
    expect(w.source.reads.sort()).toEqual(['person:u1', 'person:u2']);
  });
});

describe('who is applied', () => {
  it('events of another vendor than the tenant syncs from, unknown tenants and tenants with sync off are acknowledged and change nothing', async () => {
    const w = await seeded();
    w.tenants.push(dingtalkTenant('quiet', { enabled: false }));
    const res = await w.process(
      event('acme', 'change_contact/update_user', [person('u1')], { vendor: 'wecom' }),
      event('nobody', 'user_add_org', [person('u1')]),
      event('quiet', 'user_add_org', [person('u1')]),
    );
    expect(res.failures).toEqual([]);
    expect(res.tenants.map((t) => `${t.tenantId}:${t.outcome}`).sort()).toEqual(['acme:ignored', 'nobody:ignored', 'quiet:ignored']);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
    expect(await w.dirty.list('quiet', 'dingtalk')).toEqual([]);
    expect(w.source.reads).toEqual([]);
    expect(await w.stores.runs.list('acme')).toEqual({ items: [] });
  });

  it('a malformed message is logged and acknowledged, and its neighbours are applied', async () => {
    const w = await seeded();
    w.source.people.get('u1')!.displayName = '新名字';
    // Through the worker's batch handler, which checks every body with the callback queue's schema.
    const worker = makeCallbackWorker({ sync: w.sync, dirty: w.dirty, options: w.options });
    const bodies = ['not json', JSON.stringify({ v: 1, tenantId: 'acme', vendor: 'dingtalk', changes: [] }), JSON.stringify(event('acme', 'user_modify_org', [person('u1')]))];
    const res = await worker({ Records: bodies.map((body, i) => ({ messageId: `bad-${i}`, body, attributes: { ApproximateReceiveCount: '1' } })) } as never, {} as never);
    expect(res.batchItemFailures).toEqual([]);
    const dropped = w.logger.lines.filter((l) => l.msg === 'record failed');
    expect(dropped.map((l) => [l.messageId, (l.err as { code: string }).code])).toEqual([['bad-0', 'QUEUE.BAD_MESSAGE'], ['bad-1', 'QUEUE.BAD_MESSAGE']]);
    const runs = (await w.stores.runs.list('acme')).items;
    expect(runs).toHaveLength(1);
    expect(ops(await w.plan(runs[0]!.runId))).toEqual(['account.update u1']);
  });

  it('a tenant never synced gets no callback run that creates anything: its events are left to the first full sync', async () => {
    const w = createWorld();
    w.source.putPerson({ id: 'u1' });
    const res = await w.process(event('acme', 'user_add_org', [person('u1')]));
    expect((await w.plan(res.tenants[0]!.runId!)).operations).toEqual([]);
    expect(w.source.reads).toEqual([]);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
    expect(w.logger.lines.some((l) => l.msg === 'contact events left to the first full sync: the tenant has no mapping yet')).toBe(true);
  });
});

describe('coalescing and the tenant lock', () => {
  it('while another run holds the tenant, ids stay dirty; that run\'s release sends one drain, which applies them', async () => {
    const w = await seeded();
    await w.stores.locks.acquire('acme', SYNC_LOCK, RUN_HOLDING, 60_000);
    w.source.people.get('u1')!.displayName = '改名';
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]), event('acme', 'user_modify_org', [person('u1')]));
    expect(res.failures).toEqual([]);
    expect(res.tenants).toEqual([{ tenantId: 'acme', outcome: 'deferred', heldBy: RUN_HOLDING }]);
    expect((await w.dirty.list('acme', 'dingtalk')).map((e) => e.id)).toEqual(['u1']);
    expect(w.source.reads).toEqual([]);
    expect(await w.stores.once.get('acme', FOLLOW_UP_NAMESPACE, RUN_HOLDING)).toMatchObject({ result: { queue: 'callback', body: { v: 1, kind: 'drain', tenantId: 'acme' } } });

    await releaseRun(w.sync, 'acme', RUN_HOLDING);
    const drains = w.queue.take('callback');
    expect(drains).toEqual([{ v: 1, kind: 'drain', tenantId: 'acme' }]);
    const drained = await w.process(...drains);
    expect(drained.tenants).toEqual([expect.objectContaining({ outcome: 'started', consumed: 1 })]);
    expect(ops(await w.plan(drained.tenants[0]!.runId!))).toEqual(['account.update u1']);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
  });

  it('a lock released between the refusal and the follow-up request is taken by the worker itself', async () => {
    const w = await seeded();
    await w.stores.locks.acquire('acme', SYNC_LOCK, RUN_HOLDING, 60_000);
    // The holder releases right after our acquire attempt failed (before its follow-up could be seen).
    const once = w.stores.once;
    const complete = once.complete.bind(once);
    once.complete = async (...args) => {
      const r = await complete(...args);
      if (args[1] === FOLLOW_UP_NAMESPACE) await w.stores.locks.release('acme', SYNC_LOCK, RUN_HOLDING);
      return r;
    };
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]));
    expect(res.tenants[0]).toMatchObject({ outcome: 'started', consumed: 1 });
  });

  it('an object named again while the run re-read it stays dirty for the next run', async () => {
    const w = await seeded();
    w.source.onRead = async (_kind, id) => {
      if (id === 'u1') await w.dirty.mark('acme', 'dingtalk', [{ kind: 'person', id: 'u1' }]);
    };
    const res = await w.process(event('acme', 'user_modify_org', [person('u1'), person('u2')]));
    expect(res.tenants[0]).toMatchObject({ outcome: 'started', consumed: 2 });
    expect((await w.dirty.list('acme', 'dingtalk')).map((e) => e.id)).toEqual(['u1']);
  });

  it('a backlog larger than one run is taken oldest first, and the run asks for a drain of the rest', async () => {
    const w = await seeded({ maxObjectsPerRun: 3 });
    for (let i = 0; i < 5; i++) {
      w.clock.advance(1000);
      await w.dirty.mark('acme', 'dingtalk', [{ kind: 'person', id: `gone-${i}` }]);
    }
    const first = await w.process({ v: 1, kind: 'drain', tenantId: 'acme' });
    expect(first.tenants[0]).toMatchObject({ outcome: 'started', consumed: 3 });
    expect(w.source.reads).toEqual(['person:gone-0', 'person:gone-1', 'person:gone-2']);
    // Nothing to do for those: the run ended at once and its release sent the drain.
    const drains = w.queue.take('callback');
    expect(drains).toEqual([{ v: 1, kind: 'drain', tenantId: 'acme' }]);
    const second = await w.process(...drains);
    expect(second.tenants[0]).toMatchObject({ outcome: 'started', consumed: 2 });
    expect(w.queue.take('callback')).toEqual([]);
    const idle = await w.process({ v: 1, kind: 'drain', tenantId: 'acme' });
    expect(idle.tenants[0]).toEqual({ tenantId: 'acme', outcome: 'idle' });
    expect((await w.stores.runs.list('acme')).items).toHaveLength(2);
  });
});

describe('failures', () => {
  it('a source outage fails the records (SQS retries them) and the ids stay dirty', async () => {
    const w = await seeded();
    w.source.failWith = new UpstreamError('dingtalk', 'DINGTALK.UNAVAILABLE', 'dingtalk: HTTP 502', { retryable: true });
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]), { v: 1, kind: 'drain', tenantId: 'acme' });
    expect(res.failures).toHaveLength(2);
    expect(res.tenants[0]).toMatchObject({ outcome: 'failed', error: { retryable: true } });
    expect((await w.dirty.list('acme', 'dingtalk')).map((e) => e.id)).toEqual(['u1']);
    // The failed run freed the tenant.
    expect(await w.stores.locks.get('acme', SYNC_LOCK)).toBeUndefined();

    w.source.failWith = undefined;
    w.source.people.get('u1')!.displayName = '恢复后';
    const retried = await w.process(event('acme', 'user_modify_org', [person('u1')]));
    expect(ops(await w.plan(retried.tenants[0]!.runId!))).toEqual(['account.update u1']);
  });

  it('a refusal that retrying cannot fix is logged and acknowledged; the ids stay dirty for a later run', async () => {
    const w = await seeded();
    w.source.failWith = new UpstreamError('dingtalk', 'DINGTALK.IP_NOT_WHITELISTED', 'dingtalk: add this IP to the app', { retryable: false });
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]));
    expect(res.failures).toEqual([]);
    expect(res.tenants[0]).toMatchObject({ outcome: 'failed', error: { code: 'DINGTALK.IP_NOT_WHITELISTED', retryable: false } });
    expect((await w.dirty.list('acme', 'dingtalk')).map((e) => e.id)).toEqual(['u1']);
  });

  it('inconsistent mappings (the planner refuses its input) are not retried: acknowledged, logged, ids kept', async () => {
    const w = await seeded();
    const u1 = (await w.stores.mappings.get({ tenantId: 'acme', source: 'dingtalk', objectType: 'person', sourceId: 'u1' }))!;
    const { version: _v, updatedAt: _u, ...copy } = u1;
    await w.stores.mappings.put({ ...copy, sourceId: 'u1-twin' });
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]));
    expect(res.failures).toEqual([]);
    expect(res.tenants[0]).toMatchObject({ outcome: 'failed', error: { code: 'SYNC.PLAN_INPUT_INVALID', retryable: false } });
    expect((await w.dirty.list('acme', 'dingtalk')).map((e) => e.id)).toEqual(['u1']);
    expect(w.logger.lines.some((l) => l.msg === 'contact events not applied' && l.level === 'error')).toBe(true);
  });

  it('a store that cannot record the ids fails only that record', async () => {
    const w = await seeded();
    const mark = w.dirty.mark.bind(w.dirty);
    let calls = 0;
    w.dirty.mark = async (...args) => {
      if (++calls === 1) throw new UpstreamError('dynamodb', 'STATE.UNAVAILABLE', 'throttled', { retryable: true });
      return mark(...args);
    };
    const res = await w.process(event('acme', 'user_modify_org', [person('u1')]), event('acme', 'user_modify_org', [person('u2')]));
    expect(res.failures).toHaveLength(1);
    expect(res.tenants[0]).toMatchObject({ outcome: 'started', consumed: 1 });
    expect(w.source.reads).toEqual(['person:u2']);
  });
});

describe('WeCom renames (update_user with NewUserID)', () => {
  it('the mapping follows the person to the new id: no second mailbox, no suspension', async () => {
    const w = await seeded();
    const before = await w.stores.mappings.get({ tenantId: 'acme', source: 'dingtalk', objectType: 'person', sourceId: 'u1' });
    const p = w.source.people.get('u1')!;
    w.source.people.delete('u1');
    w.source.people.set('u1-new', { ...p, id: 'u1-new', loginName: 'u1-new' });
    const res = await w.process(event('acme', 'change_contact/update_user', [person('u1', 'upsert', 'u1-new')]));
    const runId = res.tenants[0]!.runId!;
    expect((await w.plan(runId)).operations).toEqual([]);
    expect(await w.stores.mappings.get({ tenantId: 'acme', source: 'dingtalk', objectType: 'person', sourceId: 'u1' })).toBeUndefined();
    expect(await w.stores.mappings.get({ tenantId: 'acme', source: 'dingtalk', objectType: 'person', sourceId: 'u1-new' })).toMatchObject({ neteaseId: before!.neteaseId, contentHash: before!.contentHash, status: 'active' });
    const results = await w.stores.runs.listResults('acme', runId);
    expect(results.items).toEqual([expect.objectContaining({ sourceId: 'u1-new', operation: 'mapping.rename', outcome: 'applied', neteaseId: before!.neteaseId })]);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
  });

  it('a rename the source does not confirm (the old id still exists) moves nothing', async () => {
    const w = await seeded();
    w.source.putPerson({ id: 'u1-new', displayName: '另一个人', departmentIds: ['2'] });
    const res = await w.process(event('acme', 'change_contact/update_user', [person('u1', 'upsert', 'u1-new')]));
    expect(ops(await w.plan(res.tenants[0]!.runId!))).toEqual(['account.create u1-new']);
    expect(await w.stores.mappings.get({ tenantId: 'acme', source: 'dingtalk', objectType: 'person', sourceId: 'u1' })).toBeDefined();
  });

  it('marks the old id (with the new one) and the new id', () => {
    expect(marksOf(event('acme', 'change_contact/update_user', [person('a', 'upsert', 'b'), person('b')]))).toEqual([
      { kind: 'person', id: 'a', newId: 'b' },
      { kind: 'person', id: 'b' },
    ]);
  });

  it('the dirty store refuses a rename of a department or onto the same id, writing nothing', async () => {
    const w = await seeded();
    await expect(w.dirty.mark('acme', 'dingtalk', [{ kind: 'person', id: 'ok' }, { kind: 'department', id: '1', newId: '2' }])).rejects.toBeInstanceOf(ValidationError);
    await expect(w.dirty.mark('acme', 'dingtalk', [{ kind: 'person', id: 'x', newId: 'x' }])).rejects.toBeInstanceOf(ValidationError);
    expect(await w.dirty.list('acme', 'dingtalk')).toEqual([]);
  });
});
