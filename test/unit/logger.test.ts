import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger';

describe('logger', () => {
  it('writes one JSON line with the child fields', () => {
    const log = createMemoryLogger();
    log.child({ tenant: 'acme', runId: 'r1' }).info('applied', { objectId: 'u1' });
    expect(log.lines[0]).toMatchObject({ level: 'info', msg: 'applied', tenant: 'acme', runId: 'r1', objectId: 'u1' });
  });

  it('redacts secret-looking fields even when a caller passes them by mistake', () => {
    const log = createMemoryLogger();
    log.info('x', { password: 'hunter2', accessToken: 't0k', nested: { appSecret: 's', ok: 1 }, sign: 'abcd' });
    const line = JSON.stringify(log.lines[0]);
    for (const v of ['hunter2', 't0k', '"s"', 'abcd']) expect(line).not.toContain(v);
    expect(log.lines[0]!.nested).toEqual({ appSecret: '[redacted]', ok: 1 });
  });

  it('serialises errors with code and retryable', () => {
    const log = createMemoryLogger();
    const err = Object.assign(new Error('nope'), { code: 'UPSTREAM.X', retryable: true });
    log.error('failed', { err });
    expect(log.lines[0]!.err).toMatchObject({ message: 'nope', code: 'UPSTREAM.X', retryable: true });
  });
});
