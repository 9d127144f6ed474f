/**
 * On-demand runs through the plan queue: the admin route only queues a request (202), the
 * sync planner's SQS path starts the run, once, and reports a request it could not start.
 * In-memory stores and queue, the real admin handler and planner handler.
 */
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler as makeAdmin } from '../../functions/http/admin/handler';
import { registerSyncRoutes } from '../../functions/http/admin/sync.routes';
import { makeHandler as makePlanner } from '../../functions/schedule/sync-planner/handler';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { FUNCTIONS, QUEUES, type QueueName } from '../../shared/contracts/app-manifest';
import { syncRequestMessageSchema } from '../../shared/contracts/sync-request';
import { parseRecordBody } from '../../shared/lambda/sqs-batch';
import type { DirectorySnapshot } from '../../shared/domain/directory';
import type { DirectorySource } from '../../shared/ports/directory-source';
import { UpstreamError } from '../../shared/errors/app-error';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import { newRunId } from '../../shared/ports/run-store';
import { DEFAULT_SYNC_OPTIONS, SYNC_REQUEST_LEASE_SECONDS } from '../../shared/use-cases/sync';
import type { NeteaseDirectory } from '../../shared/ports/netease-directory';
import { MemorySecrets } from '../fixtures/memory-secrets';
import { sqsEvent } from '../support/sqs-events';
import { oneTenantSyncDeps } from '../support/sync-deps';

const NOW = Date.UTC(2024, 5, 1, 12);
const tenant = tenantSchema.parse({
  id: 'acme',
  netease: { domain: 'acme.com', product: 'p', region: 'hz' },
  ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
});
const ORG: DirectorySnapshot = {
  departments: [{ id: 'd1', name: '研发部', order: 0, status: 'active' }],
  people: [{ id: 'p1', loginName: 'zhang.wei', displayName: '张伟', email: 'zhang.wei@acme.com', departmentIds: ['d1'], mainDepartmentId: 'd1', status: 'active' }],
  complete: true,
  takenAt: NOW,
};

/** Messages by queue, as SQS would hold them. */
class MemoryQueue implements JobQueue {
  readonly sent: Record<string, unknown[]> = {};
  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    (this.sent[queue] ??= []).push(...messages.map((m) => m.body));
  }
  /** Take the plan queue's messages as one SQS event each (batchSize 1), as the event source mapping would. */
  takePlan(receiveCount = 1): SQSEvent[] {
    const bodies = this.sent.plan ?? [];
    this.sent.plan = [];
    return bodies.map((body, i) => planEvent(JSON.stringify(body), `m-${i}`, receiveCount));
  }
}

function planEvent(body: string, messageId = 'm-1', receiveCount = 1): SQSEvent {
  return sqsEvent([{ messageId, body, receiveCount }], 'qiye-bridge-test-plan');
}

function setup(options: { source?: Partial<DirectorySource> } = {}) {
  const clock = fixedClock(NOW);
  const stores = createMemoryStateStores({ clock });
  const queue = new MemoryQueue();
  const logger = createMemoryLogger('info');
  let reads = 0;
  const source: DirectorySource = {
    kind: 'ekp',
    fullSnapshot: async () => {
      reads++;
      return structuredClone(ORG);
    },
    ...options.source,
  };
  const netease = { domain: 'acme.com', getUnitList: async () => [], getAllAccounts: async () => [] } as unknown as NeteaseDirectory;
  const sync = oneTenantSyncDeps({ stores, jobs: queue, clock, logger }, tenant, source, netease);
  const admin = makeAdmin({ config: { tenants: [tenant] }, logger, secrets: new MemorySecrets(), stage: 'test', extend: (router) => registerSyncRoutes(router, { sync }) });
  const planner = makePlanner({ sync });
  const req = async (method: string, path: string, body?: unknown) => {
    const [rawPath, rawQueryString = ''] = path.split('?');
    const event = { rawPath, rawQueryString, headers: {}, body: body === undefined ? undefined : JSON.stringify(body), requestContext: { requestId: 'r', http: { method, path: rawPath } } } as unknown as APIGatewayProxyEventV2;
    const r = await admin(event, {} as Context);
    const type = String((r.headers as Record<string, string> | undefined)?.['content-type'] ?? '');
    return { status: r.statusCode, headers: r.headers as Record<string, string>, body: type.includes('json') && r.body ? JSON.parse(r.body) : r.body };
  };
  return { stores, queue, logger, planner, req, reads: () => reads, clock };
}

describe('POST /admin/tenants/:tenant/sync', () => {
  it('answers 202 with a request id and plans nothing itself; the planner starts the run from the plan queue', async () => {
    const t = setup();
    const accepted = await t.req('POST', '/admin/tenants/acme/sync', { mode: 'full' });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued', tenantId: 'acme', mode: 'full', dryRun: false });
    expect(accepted.headers.location).toBe(`/admin/tenants/acme/sync/requests/${accepted.body.requestId}`);
    // Nothing was read or planned in the admin function.
    expect(t.reads()).toBe(0);
    expect((await t.stores.runs.list('acme')).items).toEqual([]);
    expect(t.queue.sent.sync).toBeUndefined();
    expect(t.queue.sent.plan).toEqual([{ v: 1, requestId: accepted.body.requestId, tenantId: 'acme', mode: 'full', dryRun: false, trigger: 'manual', requestedAt: NOW }]);
    expect((await t.req('GET', `/admin/tenants/acme/sync/requests/${accepted.body.requestId}`)).body).toEqual({ requestId: accepted.body.requestId, status: 'queued' });

    const [event] = t.queue.takePlan();
    expect(await t.planner(event!)).toEqual({ batchItemFailures: [] });

    const [run] = (await t.stores.runs.list('acme')).items;
    expect(run).toMatchObject({ requestId: accepted.body.requestId, trigger: 'manual', mode: 'full', status: 'applying', totalBatches: 2 });
    // Its first phase went out to the sync workers.
    expect(t.queue.sent.sync).toEqual([{ v: 1, tenantId: 'acme', runId: run!.runId, seq: 0 }]);
    const status = await t.req('GET', `/admin/tenants/acme/sync/requests/${accepted.body.requestId}`);
    expect(status.body).toMatchObject({ requestId: accepted.body.requestId, status: 'started', runId: run!.runId, run: { runId: run!.runId, status: 'applying' } });
  });

  it('refuses with 409 and queues nothing while a run holds the tenant', async () => {
    const t = setup();
    const holder = newRunId(NOW);
    await t.stores.locks.acquire('acme', 'sync', holder, 60_000);
    const r = await t.req('POST', '/admin/tenants/acme/sync', {});
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: 'SYNC.RUN_IN_PROGRESS', message: `a run is in progress: ${holder} (the lock frees at 2024-06-01T12:01:00Z at the latest)` });
    expect(t.queue.sent.plan).toBeUndefined();
  });

  it('refuses a bad body or an unknown tenant with 4xx and queues nothing', async () => {
    const t = setup();
    expect((await t.req('POST', '/admin/tenants/acme/sync', { mode: 'sideways' })).status).toBe(400);
    expect((await t.req('POST', '/admin/tenants/nobody/sync', {})).status).toBe(404);
    expect((await t.req('GET', '/admin/tenants/acme/sync/requests/x')).status).toBe(400);
    expect(t.queue.sent.plan).toBeUndefined();
  });

  it('a dry run is planned by the planner and its plan is served as text', async () => {
    const t = setup();
    const accepted = await t.req('POST', '/admin/tenants/acme/sync', { mode: 'full', dryRun: true });
    for (const e of t.queue.takePlan()) await t.planner(e);
    const { runId, run } = (await t.req('GET', `/admin/tenants/acme/sync/requests/${accepted.body.requestId}`)).body;
    expect(run.status).toBe('dry_run');
    const plan = await t.req('GET', `/admin/tenants/acme/runs/${runId}/plan`);
    expect(plan.status).toBe(200);
    expect(plan.headers['content-type']).toMatch(/^text\/plain/);
    expect(plan.body).toMatch(new RegExp(`^Plan ${runId} \\(full run\\)`));
    expect(plan.body).toContain('create unit "研发部"');
    expect(plan.body).toMatch(/p1: create account zhang\.wei /);
    expect(t.queue.sent.sync).toBeUndefined();
    expect((await t.req('GET', `/admin/tenants/acme/runs/${newRunId(NOW)}/plan`)).status).toBe(404);
  });
});

describe('the planner on the plan queue', () => {
  it('acknowledges a request that finds a run in progress, logs it and reports it as skipped with that run', async () => {
    const t = setup();
    const accepted = await t.req('POST', '/admin/tenants/acme/sync', { mode: 'full' });
    // A scheduled run takes the tenant between the request and the planner.
    const holder = newRunId(NOW - 1000);
    await t.stores.locks.acquire('acme', 'sync', holder, 60_000);
    const [event] = t.queue.takePlan();
    expect(await t.planner(event!)).toEqual({ batchItemFailures: [] });
    expect((await t.stores.runs.list('acme')).items).toEqual([]);
    expect(t.reads()).toBe(0);
    expect(t.logger.lines.find((l) => JSON.stringify(l).includes('skipped'))).toMatchObject({ level: 'warn', tenant: 'acme', requestId: accepted.body.requestId, runId: holder });
    const status = await t.req('GET', `/admin/tenants/acme/sync/requests/${accepted.body.requestId}`);
    expect(status.body).toEqual({ requestId: accepted.body.requestId, status: 'skipped', reason: `a run is in progress: ${holder} (the lock frees at 2024-06-01T12:01:00Z at the latest)`, runId: holder });
    // A redelivery of the same request does not start it later behind the operator's back.
    await t.stores.locks.release('acme', 'sync', holder);
    await t.planner(event!);
    expect((await t.stores.runs.list('acme')).items).toEqual([]);
  });

  it('starts one run for a request delivered twice', async () => {
    const t = setup();
    await t.req('POST', '/admin/tenants/acme/sync', { mode: 'full' });
    const [event] = t.queue.takePlan();
    await t.planner(event!);
    await t.planner(event!);
    expect((await t.stores.runs.list('acme')).items).toHaveLength(1);
    expect(t.reads()).toBe(1);
  });

  it('fails the record on a retryable error so SQS plans it again, and acknowledges a malformed one', async () => {
    let fail = true;
    const t = setup({
      source: {
        fullSnapshot: async () => {
          if (fail) throw new UpstreamError('ekp', 'UPSTREAM.UNAVAILABLE', 'EKP answered 503', { retryable: true });
          return structuredClone(ORG);
        },
      },
    });
    const accepted = await t.req('POST', '/admin/tenants/acme/sync', { mode: 'full' });
    const [event] = t.queue.takePlan();
    expect(await t.planner(event!)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    const failed = (await t.stores.runs.list('acme')).items;
    expect(failed).toMatchObject([{ status: 'failed', requestId: accepted.body.requestId }]);
    // The redelivery plans again (the tenant was released, the request was not marked done).
    fail = false;
    t.clock.set(NOW + 1000);
    expect(await t.planner(planEvent(event!.Records[0]!.body, 'm-0', 2))).toEqual({ batchItemFailures: [] });
    const runs = (await t.stores.runs.list('acme')).items;
    expect(runs.map((r) => r.status)).toEqual(['applying', 'failed']);
    expect((await t.req('GET', `/admin/tenants/acme/sync/requests/${accepted.body.requestId}`)).body).toMatchObject({ status: 'started', runId: runs[0]!.runId });

    expect(await t.planner(planEvent('{"v":1,"tenantId":"acme"}', 'bad'))).toEqual({ batchItemFailures: [] });
    expect(() => parseRecordBody(syncRequestMessageSchema, { body: '{"v":1,"tenantId":"acme"}' } as never)).toThrow(/requestId: invalid_type; mode: invalid_value; dryRun: invalid_type; trigger: invalid_value; requestedAt: invalid_type/);
  });

  it('still runs the schedule and direct invocations', async () => {
    const t = setup();
    const scheduled = await t.planner({ 'detail-type': 'Scheduled Event', source: 'aws.events' } as never);
    expect(scheduled.tenants).toEqual([expect.objectContaining({ tenantId: 'acme', mode: 'full', status: 'applying' })]);
  });
});

describe('POST /admin/tenants/:tenant/runs/:run/reject with replan', () => {
  it('rejects the parked run at once and queues a full run without deletions (202)', async () => {
    const t = setup();
    const parked = newRunId(NOW - 60_000);
    await t.stores.runs.create({ runId: parked, tenantId: 'acme', source: 'ekp', trigger: 'schedule', mode: 'full', dryRun: false, startedAt: NOW - 60_000, status: 'awaiting_approval' });
    await t.stores.locks.acquire('acme', 'sync', parked, 60_000);
    const r = await t.req('POST', `/admin/tenants/acme/runs/${parked}/reject`, { replan: true, by: 'ops' });
    expect(r.status).toBe(202);
    expect(r.body.run).toMatchObject({ runId: parked, status: 'rejected' });
    expect(r.body.replan).toMatchObject({ status: 'queued', mode: 'full' });
    expect(t.queue.sent.plan).toEqual([expect.objectContaining({ requestId: r.body.replan.requestId, mode: 'full', withholdDeletions: true, dryRun: false })]);
    expect(t.reads()).toBe(0);
    const [event] = t.queue.takePlan();
    await t.planner(event!);
    const [replan] = (await t.stores.runs.list('acme')).items;
    expect(replan).toMatchObject({ requestId: r.body.replan.requestId, mode: 'full' });
    expect((replan!.summary as { withholdDeletions?: boolean }).withholdDeletions).toBe(true);
  });
});

describe('the plan queue settings', () => {
  it('outlast the planner and the lock of a planner killed mid-planning, and hold a request for one retry only', () => {
    const plan = QUEUES.plan;
    const planner = FUNCTIONS.syncPlanner;
    expect(planner.consumes).toMatchObject({ queue: 'plan', batchSize: 1 });
    expect(FUNCTIONS.admin.sendsTo).toContain('plan');
    expect(plan.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * planner.timeoutSeconds);
    expect(plan.visibilityTimeoutSeconds * 1000).toBeGreaterThan(DEFAULT_SYNC_OPTIONS.lockTtlMs);
    // A live planner keeps its request's lease; a dead one's lease is gone at the redelivery.
    expect(SYNC_REQUEST_LEASE_SECONDS).toBeGreaterThan(planner.timeoutSeconds);
    expect(SYNC_REQUEST_LEASE_SECONDS).toBeLessThan(plan.visibilityTimeoutSeconds);
    expect(plan.maxReceiveCount).toBe(2);
    expect(plan.retentionSeconds).toBeGreaterThan(plan.visibilityTimeoutSeconds * plan.maxReceiveCount);
  });
});

describe('GET /admin/health (the deployed stack\'s view of stuck runs)', () => {
  it('is ok while no run is stuck, and 503 degraded naming the run once one has made no progress for stuckAfterMs', async () => {
    const t = setup();
    expect(await t.req('GET', '/admin/health')).toMatchObject({ status: 200, body: { status: 'ok', checks: { runs: { tenants: 1, stuck: [] } } } });
    const runId = newRunId(NOW);
    await t.stores.runs.create({ runId, tenantId: 'acme', source: 'ekp', trigger: 'schedule', mode: 'full', dryRun: false, startedAt: NOW });
    await t.stores.locks.acquire('acme', 'sync', runId, 30 * 60_000);
    expect((await t.req('GET', '/admin/health')).status).toBe(200); // live: just started
    t.clock.advance(DEFAULT_SYNC_OPTIONS.stuckAfterMs + 1000);
    const res = await t.req('GET', '/admin/health');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'degraded', checks: { runs: { stuck: [{ tenantId: 'acme', runId, progress: { status: 'planning', stuck: true } }] } } });
  });
});
