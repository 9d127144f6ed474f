/**
 * Contact events end to end over the wire: the DingTalk / WeCom simulator holds the
 * directory (read over HTTP by the real clients), the callback worker (its real handler)
 * records and re-reads, the sync worker (its real handler) applies through the real NetEase
 * client to the NetEase simulator, through an SQS stand-in with at-least-once delivery.
 * What is asserted is what a user sees: the mailbox exists, is renamed, suspended, or is NOT
 * created, and how many NetEase writes it took.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeDingtalkCallback } from '../../functions/http/dingtalk-callback/handler';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { noMetrics } from '../../shared/ports/metrics';
import { buildSimulatedCallback } from '../../shared/use-cases/callbacks/simulate-callback';
import { SYNC_LOCK, startSyncRun } from '../../shared/use-cases/sync';
import { toEvent } from './callback-harness';
import { createCallbackWorld, departmentChange, personChange, type CallbackWorld } from './callback-worker-harness';

let netease: RunningNeteaseSimulator;
const worlds: CallbackWorld[] = [];

beforeAll(async () => {
  netease = await startNeteaseSimulator({ seed: 3 });
});
afterAll(async () => {
  for (const w of worlds) await w.stop();
  await netease?.stop();
});

async function dingtalkWorld(people = 12, sync: Record<string, unknown> = {}): Promise<CallbackWorld> {
  const w = await createCallbackWorld({ vendor: 'dingtalk', netease, people, sync });
  worlds.push(w);
  const first = await w.firstSync();
  expect(first.status).toBe('success');
  return w;
}

const dtUsers = (w: CallbackWorld) => w.dingtalk!.state(w.tenant.id).users;
const account = (w: CallbackWorld, name: string) => netease.state(w.tenant.netease.domain).accounts[name.toLowerCase()];
const localPart = (email: string) => email.split('@')[0]!;

describe('DingTalk contact events -> NetEase', () => {
  it('a signed user_add_org for a new colleague, accepted by the callback route, becomes their mailbox', async () => {
    const w = await dingtalkWorld();
    const depts = w.dingtalk!.state(w.tenant.id).departments;
    await w.control('POST', 'users', { userid: 'newhire01', name: '新同事', org_email: `newhire01@${w.tenant.netease.domain}`, dept_id_list: [depts[2]!.dept_id] });
    const since = await w.mark();

    // The vendor's request through the real callback handler (verify, dedup, enqueue, answer).
    const route = makeDingtalkCallback({
      tenant: (id) => (id === w.tenant.id ? w.tenant : undefined),
      callbackSecret: async () => ({ callbackToken: 'cb-token', callbackAesKey: 'a'.repeat(43) }),
      once: w.stores.once,
      jobs: w.queues,
      clock: { now: () => Date.now() },
      logger: w.logger,
      metrics: noMetrics,
    });
    const cb = buildSimulatedCallback({ tenant: w.tenant, token: 'cb-token', aesKey: 'a'.repeat(43), event: 'user_add_org', ids: ['newhire01'], now: Date.now() });
    const answer = (await route(toEvent('dingtalk', cb, w.tenant.id, false), {} as never)) as { statusCode: number; body: string };
    expect(cb.verdict(answer.statusCode, answer.body).acknowledged).toBe(true);
    expect(w.queues.ready.callback).toHaveLength(1);

    await w.pump();
    expect(account(w, 'newhire01')).toMatchObject({ nickname: '新同事', status: 0 });
    expect(w.writes(since)).toEqual(['createAccount newhire01']);
    expect(await w.accountOf('newhire01')).toBe('newhire01');
    expect(await w.runs('callback')).toEqual([expect.objectContaining({ status: 'success', trigger: 'callback', mode: 'incremental' })]);
    expect(await w.dirty.list(w.tenant.id, 'dingtalk')).toEqual([]);
  });

  it('user_modify_org with a new name is one updateAccount; user_leave_org suspends (never deletes); a late user_add_org for the leaver recreates nothing', async () => {
    const w = await dingtalkWorld();
    const [a, b] = dtUsers(w);
    const nameA = localPart(a!.org_email!);
    const nameB = localPart(b!.org_email!);

    let since = await w.mark();
    await w.control('POST', 'users', { userid: a!.userid, name: '改了名字' });
    await w.enqueue({ eventType: 'user_modify_org', changes: [personChange(a!.userid)] });
    await w.pump();
    expect(w.writes(since)).toEqual([`updateAccount ${nameA}`]);
    expect(account(w, nameA)!.nickname).toBe('改了名字');

    since = await w.mark();
    await w.control('DELETE', `users/${b!.userid}`);
    await w.enqueue({ eventType: 'user_leave_org', changes: [personChange(b!.userid, 'delete')] });
    await w.pump();
    expect(w.writes(since)).toEqual([`suspendAccount ${nameB}`]);
    expect(account(w, nameB)!.status).toBe(1);

    // Delivered late (or replayed): the source no longer has them, so nothing is created or recovered.
    since = await w.mark();
    await w.enqueue({ eventType: 'user_add_org', changes: [personChange(b!.userid)] }, { eventType: 'user_add_org', changes: [personChange('never-existed')] });
    await w.pump();
    expect(w.writes(since)).toEqual([]);
    expect(account(w, nameB)!.status).toBe(1);
    expect(await w.accountOf('never-existed')).toBeUndefined();
  });

  it('department create, rename and removal reach NetEase as unit create, update and delete', async () => {
    const w = await dingtalkWorld(12, { deleteThreshold: { count: 50, percent: 100 } });
    const created = (await w.control('POST', 'departments', { name: '新事业部', parent_id: 1 })) as { department: { dept_id: number } };
    const id = String(created.department.dept_id);
    let since = await w.mark();
    await w.enqueue({ eventType: 'org_dept_create', changes: [departmentChange(id)] });
    await w.pump();
    expect(w.writes(since)).toEqual(['createUnit 新事业部']);

    since = await w.mark();
    await w.control('POST', 'departments', { dept_id: created.department.dept_id, name: '新事业部二部' });
    await w.enqueue({ eventType: 'org_dept_modify', changes: [departmentChange(id)] });
    await w.pump();
    expect(w.writes(since)).toHaveLength(1);
    expect(w.writes(since)[0]).toMatch(/^updateUnit /);
    const unitId = (await w.stores.mappings.get({ tenantId: w.tenant.id, source: 'dingtalk', objectType: 'department', sourceId: id }))!.neteaseId;
    expect(netease.state(w.tenant.netease.domain).units[unitId]!.unit_name).toBe('新事业部二部');

    since = await w.mark();
    await w.control('DELETE', `departments/${id}`);
    await w.enqueue({ eventType: 'org_dept_remove', changes: [departmentChange(id, 'delete')] });
    await w.pump();
    expect(w.writes(since)).toEqual([`deleteUnit ${unitId}`]);
    expect(netease.state(w.tenant.netease.domain).units[unitId]).toBeUndefined();
  });

  it('out of order: a modify before its add, and a person before their new department, converge with one write each', async () => {
    const w = await dingtalkWorld();
    const dept = (await w.control('POST', 'departments', { name: '实验室', parent_id: 1 })) as { department: { dept_id: number } };
    await w.control('POST', 'users', { userid: 'late01', name: '先改名', org_email: `late01@${w.tenant.netease.domain}`, dept_id_list: [dept.department.dept_id] });
    await w.control('POST', 'users', { userid: 'late01', name: '最终名字' });
    const since = await w.mark();
    // Delivered in reverse: the modify, then (in a later batch) the add and the department.
    await w.enqueue({ eventType: 'user_modify_org', changes: [personChange('late01')] });
    await w.pump();
    await w.enqueue({ eventType: 'user_add_org', changes: [personChange('late01')] }, { eventType: 'org_dept_create', changes: [departmentChange(String(dept.department.dept_id))] });
    await w.pump();
    expect(w.writes(since).sort()).toEqual(['createAccount late01', 'createUnit 实验室']);
    expect(account(w, 'late01')).toMatchObject({ nickname: '最终名字', status: 0 });
    const unit = (await w.stores.mappings.get({ tenantId: w.tenant.id, source: 'dingtalk', objectType: 'department', sourceId: String(dept.department.dept_id) }))!.neteaseId;
    expect(account(w, 'late01')!.unit_id).toBe(unit);
  });

  it('a burst of 1,000 events for 100 people (30 really changed) makes one NetEase write per change, in a few runs, despite duplicate deliveries', async () => {
    const w = await dingtalkWorld(100);
    const users = dtUsers(w);
    expect(users).toHaveLength(100);
    const changed = users.slice(0, 30);
    for (const [i, u] of changed.entries()) await w.control('POST', 'users', { userid: u.userid, name: `新名字${i}` });
    const since = await w.mark();
    // Each person named 10 times, interleaved as a busy HR session would send them.
    const events = Array.from({ length: 1000 }, (_, i) => ({ eventType: 'user_modify_org', changes: [personChange(users[i % 100]!.userid)] }));
    await w.enqueue(...events);
    await w.pump({ duplicateRate: 0.1 });

    const writes = w.writes(since);
    expect(writes.sort()).toEqual(changed.map((u) => `updateAccount ${localPart(u.org_email!)}`).sort());
    for (const [i, u] of changed.entries()) expect(account(w, localPart(u.org_email!))!.nickname).toBe(`新名字${i}`);
    const runs = await w.runs('callback');
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(15);
    expect(runs.every((r) => r.status === 'success')).toBe(true);
    expect(w.queues.dlq).toEqual({ callback: [], sync: [] });
    expect(await w.dirty.list(w.tenant.id, 'dingtalk')).toEqual([]);
  }, 30_000);

  it('while a scheduled sync holds the tenant, events wait as dirty ids; its end sends a drain that applies them', async () => {
    const w = await dingtalkWorld();
    const [a] = dtUsers(w);
    const nameA = localPart(a!.org_email!);
    // A full run has read the directory and holds the tenant while its batches are applied...
    const [, b] = dtUsers(w);
    await w.control('POST', 'users', { userid: b!.userid, name: '排班前改名' });
    const { run: scheduled } = await startSyncRun(w.sync, { tenantId: w.tenant.id, trigger: 'schedule', mode: 'full' });
    expect(scheduled.status).toBe('applying');
    expect((await w.stores.locks.get(w.tenant.id, SYNC_LOCK))?.owner).toBe(scheduled.runId);
    // ...when a change happens (after its read) and its event arrives.
    await w.control('POST', 'users', { userid: a!.userid, name: '锁期间改名' });
    const since = await w.mark();
    await w.enqueue({ eventType: 'user_modify_org', changes: [personChange(a!.userid)] });
    await w.pump({ only: ['callback'] });
    expect((await w.dirty.list(w.tenant.id, 'dingtalk')).map((e) => e.id)).toEqual([a!.userid]);
    expect(await w.runs('callback')).toEqual([]);
    expect(w.writes(since)).toEqual([]);

    // The scheduled run ends (sync queue), its release sends the drain (callback queue).
    const drainsBefore = w.queues.sentCount.callback;
    await w.pump();
    expect(w.queues.sentCount.callback).toBe(drainsBefore + 1);
    expect((await w.stores.runs.get(w.tenant.id, scheduled.runId))!.status).toBe('success');
    expect(await w.runs('callback')).toEqual([expect.objectContaining({ status: 'success' })]);
    // The scheduled run applied what it read (b); the drained callback run applied a.
    expect(w.writes(since).sort()).toEqual([`updateAccount ${localPart(b!.org_email!)}`, `updateAccount ${nameA}`].sort());
    expect(account(w, nameA)!.nickname).toBe('锁期间改名');
    expect(await w.dirty.list(w.tenant.id, 'dingtalk')).toEqual([]);
  });

  it('the same queue message delivered twice changes nothing more; a source outage retries and then applies', async () => {
    const w = await dingtalkWorld();
    const [a] = dtUsers(w);
    await w.control('POST', 'users', { userid: a!.userid, name: '重复投递' });
    const since = await w.mark();
    const [message] = await w.enqueue({ eventType: 'user_modify_org', changes: [personChange(a!.userid)] });
    await w.queues.send('callback', [{ body: message }]); // the same message again (SQS at-least-once)
    // DingTalk answers 5xx-like system busy twice for user/get: the client retries, then the record is retried.
    await fetch(`${w.dingtalk!.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: w.tenant.id, failNext: { errcode: -1, count: 4, api: 'topapi/v2/user/get' } }) });
    await w.pump({ duplicateRate: 0.5 });
    expect(w.writes(since)).toEqual([`updateAccount ${localPart(a!.org_email!)}`]);
    expect(account(w, localPart(a!.org_email!))!.nickname).toBe('重复投递');
    expect(w.queues.dlq.callback).toEqual([]);
    expect((await w.runs('callback')).some((r) => r.status === 'failed')).toBe(true);
  });
});

describe('WeCom contact events -> NetEase', () => {
  it('update_user with NewUserID: the mailbox follows the renamed member (no second mailbox, no suspension); delete_user suspends', async () => {
    const w = await createCallbackWorld({ vendor: 'wecom', netease, people: 8 });
    worlds.push(w);
    expect((await w.firstSync()).status).toBe('success');
    const users = w.wecom!.state(w.tenant.id).users;
    const [old, leaver] = users;
    const mailbox = await w.accountOf(old!.userid);
    expect(mailbox).toBe(old!.userid.toLowerCase());

    // WeCom renamed the userid (the member is the same): the old id is gone, the new one exists.
    const jobNumber = old!.extattr.attrs.find((x) => x.name === '工号')?.text?.value;
    await w.control('DELETE', `users/${old!.userid}`);
    await w.control('POST', 'users', {
      userid: `${old!.userid}-x`,
      name: old!.name,
      department: old!.department,
      main_department: old!.main_department,
      ...(old!.email ? { email: old!.email } : {}),
      ...(old!.mobile ? { mobile: old!.mobile } : {}),
      ...(old!.position ? { position: old!.position } : {}),
      ...(jobNumber ? { jobNumber } : {}),
    });
    let since = await w.mark();
    await w.enqueue({ eventType: 'change_contact/update_user', changes: [personChange(old!.userid, 'upsert', `${old!.userid}-x`)] });
    await w.pump();
    expect(w.writes(since)).toEqual([]);
    expect(await w.accountOf(`${old!.userid}-x`)).toBe(mailbox);
    expect(await w.accountOf(old!.userid)).toBeUndefined();
    expect(account(w, mailbox!)!.status).toBe(0);
    const [run] = await w.runs('callback');
    expect((await w.stores.runs.listResults(w.tenant.id, run!.runId)).items).toEqual([expect.objectContaining({ operation: 'mapping.rename', sourceId: `${old!.userid}-x` })]);

    since = await w.mark();
    await w.control('DELETE', `users/${leaver!.userid}`);
    await w.enqueue({ eventType: 'change_contact/delete_user', changes: [personChange(leaver!.userid, 'delete')] });
    await w.pump();
    expect(w.writes(since)).toEqual([`suspendAccount ${leaver!.userid.toLowerCase()}`]);
  });
});
