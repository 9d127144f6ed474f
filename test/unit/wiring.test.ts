/**
 * The composition root (shared/wiring): one set of tenant clients per process, shared by
 * every function's wiring, rebuilt only when the runtime is reset or the tenant's key rotates.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { secretName } from '../../shared/config/secrets';
import { processUsage } from '../../shared/wiring/usage';
import { processMetrics } from '../../shared/wiring/metrics';
import { getRuntime, resetRuntimeForTests } from '../../shared/runtime/runtime';
import { generateTenantKey } from '../../shared/use-cases/manage-keys';
import { CALLBACK_VERIFIERS, getWiring } from '../../shared/wiring/wiring';

const SAVED = { ...process.env };

describe('getWiring', () => {
  beforeEach(async () => {
    // Prepare: a local-stage environment with file secrets and the sandbox tenants.
    const dir = await mkdtemp(join(tmpdir(), 'qiye-wiring-'));
    Object.assign(process.env, {
      QIYE_STAGE: 'local',
      TABLE_NAME: 'qiye-bridge-local',
      QIYE_SECRETS_BACKEND: 'file',
      QIYE_SECRETS_FILE: join(dir, 'secrets.json'),
      QIYE_TENANTS_FILE: resolve('config/tenants.local.json'),
      QUEUE_URL_SYNC: 'http://127.0.0.1:1/000000000000/qiye-bridge-local-sync',
      QIYE_PUBLIC_BASE_URL: 'http://127.0.0.1:3000',
      AWS_REGION: 'us-east-1',
    });
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    resetRuntimeForTests();
  });
  afterEach(() => {
    resetRuntimeForTests();
    process.env = { ...SAVED };
  });

  it('gives every function of the process the same tenant clients, and one NetEase client per tenant', async () => {
    const rt = getRuntime('admin');
    await generateTenantKey({ secrets: rt.secrets, stage: rt.stage, tenantId: 'sandbox-dingtalk', bits: 1024 });
    const tenant = rt.tenant('sandbox-dingtalk')!;

    const unread = getWiring('unread');
    const notify = getWiring('notifyWorker');
    const planner = getWiring('syncPlanner');

    expect(getWiring('unread')).toBe(unread);
    expect(notify.clients).toBe(unread.clients);
    expect(planner.clients).toBe(unread.clients);
    const mailbox = await unread.clients.neteaseMailbox(tenant);
    expect(await notify.clients.neteaseMailbox(tenant)).toBe(mailbox);
    // The sync's directory is the same client (no open platform for this tenant).
    expect(await planner.syncDeps().netease(tenant)).toBe(mailbox);
    expect(await planner.syncDeps().directory(tenant)).toBe(await unread.clients.directorySource(tenant));
  });

  it('rebuilds the NetEase client when the tenant key rotates', async () => {
    const rt = getRuntime('admin');
    await generateTenantKey({ secrets: rt.secrets, stage: rt.stage, tenantId: 'sandbox-wecom', bits: 1024 });
    const clients = getWiring('unread').clients;
    const tenant = rt.tenant('sandbox-wecom')!;
    const before = await clients.neteaseMailbox(tenant);

    await generateTenantKey({ secrets: rt.secrets, stage: rt.stage, tenantId: 'sandbox-wecom', bits: 1024 });

    expect(await clients.neteaseMailbox(tenant)).not.toBe(before);
  });

  it('builds anew after the runtime is reset', () => {
    const before = getWiring('sso');
    resetRuntimeForTests();
    const after = getWiring('sso');
    expect(after).not.toBe(before);
    expect(after.clients).not.toBe(before.clients);
  });

  it('hands the use cases that count the process metrics port, writing to the metrics of the moment', async () => {
    // Prepare
    const { configureMetrics, metrics } = await import('../../shared/observability/metrics');
    // Act / Assess: every use case that counts gets the one process port.
    expect(getWiring('wecomCallback').acceptCallbackDeps().metrics).toBe(processMetrics);
    expect(getWiring('notifyWorker').checkNewMailDeps().metrics).toBe(processMetrics);
    expect(getWiring('syncWorker').syncDeps().metrics).toBe(processMetrics);
    expect(getWiring('callbackWorker').contactEventsDeps().sync.metrics).toBe(processMetrics);
    // A count lands in the metrics current when it is made (configureMetrics replaces them at a cold start).
    const current = configureMetrics({ functionName: 'syncWorker', enabled: false });
    try {
      const spy = vi.spyOn(current, 'count');
      processMetrics.count('SyncRuns', 1, { status: 'success', tenant: 'acme' });
      expect(spy).toHaveBeenCalledWith('SyncRuns', 1, { status: 'success', tenant: 'acme' });
      expect(metrics()).toBe(current);
    } finally {
      configureMetrics({ functionName: 'unknown', enabled: false });
    }
  });

  it('picks the verifier of the vendor the callback function serves', () => {
    expect(CALLBACK_VERIFIERS.dingtalk.vendor).toBe('dingtalk');
    expect(CALLBACK_VERIFIERS.wecom.vendor).toBe('wecom');
  });

  it('refuses a CAS look-up for a tenant without sso.cas, naming the setting', () => {
    const rt = getRuntime('sso');
    expect(() => getWiring('sso').clients.cas(rt.tenant('sandbox')!)).toThrow(/sso\.cas/);
  });

  it('meters every DingTalk call of the clients it builds on the one meter of the process', async () => {
    const rt = getRuntime('sso');
    const tenant = rt.tenant('sandbox-dingtalk')!;
    await rt.secrets.putJson(secretName(rt.stage, tenant.id, 'dingtalk'), { appSecret: 'test-app-secret' });
    const { meter } = processUsage(rt);
    const recorded: Array<{ tenantId: string; vendor: string; api: string; cls: string }> = [];
    vi.spyOn(meter, 'record').mockImplementation((c) => void recorded.push(c));
    expect(getWiring('notifyWorker').usage).toBe(getWiring('sso').usage);

    // Prepare: no simulator listens on the tenant's DingTalk URL, so the call fails after it was counted.
    const identity = await getWiring('sso').clients.signInIdentity(tenant, 'dingtalk');
    await expect(identity.userIdFromCallback({ authCode: 'x' })).rejects.toThrow();

    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.every((c) => c.tenantId === tenant.id && c.vendor === 'dingtalk')).toBe(true);
  });

  it('flushes the meter when a wrapped invocation ends, also when it throws', async () => {
    const w = getWiring('syncPlanner');
    const flush = vi.spyOn(processUsage(w.rt).meter, 'flush').mockResolvedValue(undefined);
    await expect(w.flushing(async () => 'ok')({}, {} as never)).resolves.toBe('ok');
    await expect(w.flushing(async () => Promise.reject(new Error('boom')))({}, {} as never)).rejects.toThrow('boom');
    expect(flush).toHaveBeenCalledTimes(2);
  });
});
