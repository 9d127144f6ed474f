import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppError, UpstreamError } from '../../shared/errors/app-error';
import { httpRequest } from '../../shared/adapters/http/http-request';
import { createRateLimiter } from '../../shared/adapters/http/rate-limiter';
import { withRetry } from '../../shared/adapters/http/retry';

describe('rate limiter', () => {
  it('spaces requests at the configured rate after the burst', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 2, now: () => t, sleep: async (ms) => void sleeps.push(ms) });
    for (let i = 0; i < 5; i++) await limiter.acquire();
    // Two go at once (burst), then one every 100 ms.
    expect(sleeps).toEqual([100, 200, 300]);
    t = 10_000; // after a long idle period the burst is available again, no more
    sleeps.length = 0;
    for (let i = 0; i < 3; i++) await limiter.acquire();
    expect(sleeps).toEqual([100]);
  });

  it('refuses a non-positive rate', () => {
    expect(() => createRateLimiter({ requestsPerSecond: 0 })).toThrow(RangeError);
  });
});

describe('retry', () => {
  it('retries retryable errors with growing jittered delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const out = await withRetry(
      async () => {
        if (++calls < 4) throw new AppError('UPSTREAM.THROTTLED', 'x', { retryable: true });
        return 'done';
      },
      { maxRetries: 5, baseDelayMs: 100, random: () => 0.999, sleep: async (ms) => void delays.push(ms) },
    );
    expect(out).toBe('done');
    expect(delays).toEqual([99, 199, 399]);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new AppError('NETEASE.DUPLICATE', 'exists', { retryable: false });
      }, { maxRetries: 5, sleep: async () => {} }),
    ).rejects.toThrow('exists');
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new AppError('UPSTREAM.TIMEOUT', `t${calls}`, { retryable: true });
      }, { maxRetries: 2, sleep: async () => {} }),
    ).rejects.toThrow('t3');
  });
});

describe('httpRequest', () => {
  it('maps a timeout to a retryable UpstreamError without the query string', async () => {
    const server = createServer(() => {
      /* never answers */
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const err = await httpRequest({ vendor: 'dingtalk', url: `http://127.0.0.1:${port}/gettoken?appsecret=SECRET123`, timeoutMs: 150 }).catch((e) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err.code).toBe('UPSTREAM.TIMEOUT');
      expect(err.retryable).toBe(true);
      expect(err.message).not.toContain('SECRET123');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('maps a refused connection to a retryable network error', async () => {
    const err = await httpRequest({ vendor: 'ekp', url: 'http://127.0.0.1:1/x?token=abc', timeoutMs: 2000 }).catch((e) => e);
    expect(err.code).toBe('UPSTREAM.NETWORK');
    expect(err.message).not.toContain('abc');
  });
});
