import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics, METRICS_NAMESPACE } from '../../shared/observability/metrics';

/** Captures what Powertools writes to stdout (its own Console over process.stdout). */
function captureStdout(): { lines: () => string[]; restore: () => void } {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
  return { lines: () => chunks.join('').split('\n').filter(Boolean), restore: () => spy.mockRestore() };
}

describe('metrics (Powertools EMF)', () => {
  let out: ReturnType<typeof captureStdout> | undefined;
  afterEach(() => out?.restore());

  it('writes one EMF line per dimension group, with the namespace, function and tenant as metadata', () => {
    const m = createMetrics({ functionName: 'wecomCallback', enabled: true });
    out = captureStdout();
    m.count('CallbacksAccepted', 1, { vendor: 'wecom', tenant: 'acme' });
    m.count('CallbacksAccepted', 1, { vendor: 'wecom', tenant: 'acme' });
    m.count('CallbacksRefused', 1, { vendor: 'wecom', code: 'CALLBACK.BAD_SIGNATURE', tenant: 'acme' });
    m.flush();
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } });
    expect(lines).toHaveLength(2);
    const accepted = lines.find((l) => 'CallbacksAccepted' in l)!;
    expect(accepted._aws.CloudWatchMetrics).toEqual([{ Namespace: METRICS_NAMESPACE, Dimensions: [expect.arrayContaining(['service', 'function', 'vendor'])], Metrics: [{ Name: 'CallbacksAccepted', Unit: 'Count' }] }]);
    expect(accepted).toMatchObject({ service: 'qiye-mail-bridge', function: 'wecomCallback', vendor: 'wecom', tenant: 'acme', CallbacksAccepted: [1, 1] });
    // The tenant is metadata: never a dimension.
    expect(accepted._aws.CloudWatchMetrics[0]!.Dimensions[0]).not.toContain('tenant');
    const refused = lines.find((l) => 'CallbacksRefused' in l)!;
    expect(refused).toMatchObject({ code: 'CALLBACK.BAD_SIGNATURE', CallbacksRefused: 1 });
    expect(refused._aws.CloudWatchMetrics[0]!.Dimensions[0]).toContain('code');
  });

  it('writes nothing when disabled (tests, local stack), and a flush with no counts writes nothing either', () => {
    const m = createMetrics({ functionName: 'syncWorker', enabled: false });
    const on = createMetrics({ functionName: 'syncWorker', enabled: true });
    out = captureStdout();
    m.count('SyncRuns', 1, { status: 'success' });
    m.flush();
    on.flush();
    expect(out.lines()).toEqual([]);
  });

  it('is off by default outside Lambda', () => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', undefined as unknown as string);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', undefined as unknown as string);
    try {
      const m = createMetrics({ functionName: 'x' });
      out = captureStdout();
      m.count('VendorCalls', 1, { vendor: 'netease' });
      m.flush();
      expect(out.lines()).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('business counts from the SQS batch handler', () => {
  it('counts dropped records by code and flushes when the batch ends', async () => {
    const { configureMetrics } = await import('../../shared/observability/metrics');
    const { sqsBatchHandler } = await import('../../shared/lambda/sqs-batch');
    const { AppError } = await import('../../shared/errors/app-error');
    const { createMemoryLogger } = await import('../../shared/logging/logger');
    configureMetrics({ functionName: 'syncWorker', enabled: true });
    const out = captureStdout();
    try {
      const h = sqsBatchHandler(async (r) => {
        if (r.body === 'fatal') throw new AppError('SYNC.BAD_INPUT', 'cannot apply', { retryable: false });
        if (r.body === 'retry') throw new AppError('UPSTREAM.THROTTLED', 'slow down', { retryable: true });
      }, { logger: createMemoryLogger() });
      const rec = (id: string, body: string) => ({ messageId: id, body, attributes: { ApproximateReceiveCount: '1' } });
      await h({ Records: [rec('a', 'fatal'), rec('b', 'retry'), rec('c', 'ok')] } as never, {} as never);
      const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ function: 'syncWorker', status: 'dropped', code: 'SYNC.BAD_INPUT', QueueRecordsFailed: 1 }));
      expect(lines).toContainEqual(expect.objectContaining({ function: 'syncWorker', status: 'retry', QueueRecordsFailed: 1 }));
    } finally {
      out.restore();
      configureMetrics({ functionName: 'unknown', enabled: false });
    }
  });
});

describe('every function writes its counts when an invocation ends', () => {
  it('an HTTP function (wecom callback) flushes its counts when the invocation answers, without a queue batch in sight', async () => {
    // Prepare: EMF on, a callback function whose use case counts a refusal (unknown tenant).
    const { configureMetrics, metrics } = await import('../../shared/observability/metrics');
    const { lazyHandler } = await import('../../shared/http/http-handler');
    const { makeCallbackHandler } = await import('../../shared/http/callback-handler');
    const { createMemoryLogger } = await import('../../shared/logging/logger');
    configureMetrics({ functionName: 'wecomCallback', enabled: true });
    const deps = {
      tenant: () => undefined,
      callbackSecret: async () => {
        throw new Error('not read for an unknown tenant');
      },
      once: undefined as never,
      jobs: undefined as never,
      clock: { now: () => 1_700_000_000_000 },
      logger: createMemoryLogger(),
      // The deployed wiring's metrics port (shared/wiring/metrics.ts): counts go to the process's metrics.
      metrics: (await import('../../shared/wiring/metrics')).processMetrics,
    };
    const handler = lazyHandler(() => makeCallbackHandler('wecom').makeHandler(deps));
    const event = { routeKey: 'POST /callbacks/wecom/{tenant}', rawPath: '/callbacks/wecom/acme', rawQueryString: '', headers: { host: 'bridge.example.com' }, pathParameters: { tenant: 'acme' }, requestContext: { requestId: 'r1', http: { method: 'POST' } }, body: '<xml/>', isBase64Encoded: false };
    const out = captureStdout();
    try {
      // Act
      const res = await handler(event as never, {} as never);
      // Assess: the refusal was answered and its count written by the end of the invocation.
      expect(res.statusCode).toBe(404);
      const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ function: 'wecomCallback', vendor: 'wecom', code: 'TENANT.UNKNOWN', tenant: 'acme', CallbacksRefused: 1 }));
      // Nothing is left in the buffer for a later invocation to write.
      out.restore();
      const after = captureStdout();
      metrics().flush();
      expect(after.lines()).toEqual([]);
      after.restore();
    } finally {
      out.restore();
      configureMetrics({ functionName: 'unknown', enabled: false });
    }
  });

  it('a schedule or queue function flushes even when the invocation throws', async () => {
    const { configureMetrics, metrics } = await import('../../shared/observability/metrics');
    const { lazyHandler } = await import('../../shared/http/http-handler');
    configureMetrics({ functionName: 'syncPlanner', enabled: true });
    const handler = lazyHandler(() => async () => {
      metrics().count('SyncRuns', 1, { status: 'failed', tenant: 'acme' });
      throw new Error('planner failed');
    });
    const out = captureStdout();
    try {
      await expect(handler({}, {} as never)).rejects.toThrow('planner failed');
      const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ function: 'syncPlanner', status: 'failed', SyncRuns: 1 }));
    } finally {
      out.restore();
      configureMetrics({ functionName: 'unknown', enabled: false });
    }
  });

  it('replacing the process metrics writes what the old ones buffered', async () => {
    const { configureMetrics, metrics } = await import('../../shared/observability/metrics');
    configureMetrics({ functionName: 'first', enabled: true });
    metrics().count('VendorCalls', 1, { vendor: 'netease' });
    const out = captureStdout();
    try {
      configureMetrics({ functionName: 'unknown', enabled: false });
      expect(out.lines().map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ function: 'first', VendorCalls: 1 }));
      expect(metrics().functionName).toBe('unknown');
    } finally {
      out.restore();
    }
  });
});
