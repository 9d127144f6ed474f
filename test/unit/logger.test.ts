import { describe, expect, it, vi } from 'vitest';
import { createLogger, createMemoryLogger } from '../../shared/logging/logger';

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

describe('logger (Powertools Logger underneath)', () => {
  it('redacts secret-looking fields given to a child as well as per call', () => {
    const log = createMemoryLogger();
    log.child({ tenant: 'acme', appSecret: 'top-secret-1' }).child({ authorization: 'Bearer xyz' }).warn('w', { private_key: 'pk-1' });
    const line = JSON.stringify(log.lines[0]);
    for (const v of ['top-secret-1', 'Bearer xyz', 'pk-1']) expect(line).not.toContain(v);
    expect(log.lines[0]).toMatchObject({ level: 'warn', tenant: 'acme', appSecret: '[redacted]', authorization: '[redacted]' });
  });

  it('writes exactly one line per entry and honours the level', () => {
    const log = createMemoryLogger('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(log.lines.map((l) => [l.level, l.msg])).toEqual([['warn', 'w'], ['error', 'e']]);
  });

  it('keeps a field named like a Powertools key instead of dropping it', () => {
    const log = createMemoryLogger();
    log.info('x', { message: 'from the caller', service: 'ekp' });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ msg: 'x', message_: 'from the caller', service_: 'ekp' });
  });

  it('writes JSON lines to stdout by default, one per entry', () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    try {
      createLogger({ fields: { function: 'syncWorker' } }).info('hello', { runId: 'r1', password: 'pw-9' });
    } finally {
      spy.mockRestore();
    }
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(chunks[0]!)).toMatchObject({ level: 'info', msg: 'hello', function: 'syncWorker', runId: 'r1', password: '[redacted]' });
  });
});
