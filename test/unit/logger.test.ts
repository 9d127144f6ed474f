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

  it('redacts secret-looking fields inside arrays, arrays of arrays and objects nested in arrays', () => {
    const log = createMemoryLogger();
    log.info('x', {
      items: [{ token: 'LEAK1', id: 'u1' }],
      grid: [[{ password: 'LEAK2' }], [[{ appSecret: 'LEAK3' }]]],
      users: [{ profile: { contacts: [{ accessToken: 'LEAK4', mobile: null }] } }],
      deep: { a: { b: { c: { d: { e: { sign: 'LEAK5' } } } } } },
      ids: ['u1', 'u2'],
    });
    const line = JSON.stringify(log.lines[0]);
    for (const v of ['LEAK1', 'LEAK2', 'LEAK3', 'LEAK4', 'LEAK5']) expect(line).not.toContain(v);
    expect(log.lines[0]).toMatchObject({
      items: [{ token: '[redacted]', id: 'u1' }],
      grid: [[{ password: '[redacted]' }], [[{ appSecret: '[redacted]' }]]],
      users: [{ profile: { contacts: [{ accessToken: '[redacted]', mobile: null }] } }],
      deep: { a: { b: { c: { d: { e: { sign: '[redacted]' } } } } } },
      ids: ['u1', 'u2'],
    });
  });

  it('writes an error inside an array with its safe fields only, never a secret field it carries', () => {
    const log = createMemoryLogger();
    const err = Object.assign(new Error('upstream refused'), { code: 'UPSTREAM.X', token: 'LEAK6', config: { headers: { authorization: 'LEAK7' } } });
    log.error('failed', { failures: [{ id: 'u1', err }, err] });
    const line = JSON.stringify(log.lines[0]);
    for (const v of ['LEAK6', 'LEAK7']) expect(line).not.toContain(v);
    const failures = log.lines[0]!.failures as Array<Record<string, unknown>>;
    expect(failures[0]).toMatchObject({ id: 'u1', err: { message: 'upstream refused', code: 'UPSTREAM.X' } });
    expect(failures[1]).toMatchObject({ name: 'Error', message: 'upstream refused', code: 'UPSTREAM.X' });
  });

  it('redacts what a value\'s toJSON() returns and survives a cycle', () => {
    const log = createMemoryLogger();
    const cyclic: Record<string, unknown> = { id: 'c1', list: [{ ticket: 'LEAK8' }] };
    // the cycle is cut where the value meets its own ancestor (an array slot becomes null, as JSON has it)
    cyclic.self = cyclic;
    (cyclic.list as unknown[]).push(cyclic);
    log.info('x', { cyclic, wrapped: { toJSON: () => [{ credential: 'LEAK9' }] }, at: new Date(0) });
    const line = JSON.stringify(log.lines[0]);
    for (const v of ['LEAK8', 'LEAK9']) expect(line).not.toContain(v);
    expect(log.lines[0]).toMatchObject({ cyclic: { id: 'c1', list: [{ ticket: '[redacted]' }, null] }, wrapped: [{ credential: '[redacted]' }], at: '1970-01-01T00:00:00.000Z' });
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
      const root = createLogger({ fields: { function: 'syncWorker', clients: [{ corpSecret: 'pw-10' }] } });
      root.info('hello', { runId: 'r1', password: 'pw-9' });
      root.child({ tenant: 'acme' }).warn('batch', { items: [[{ token: 'pw-11' }]], err: [Object.assign(new Error('e'), { aesKey: 'pw-12' })] });
    } finally {
      spy.mockRestore();
    }
    expect(chunks).toHaveLength(2);
    expect(chunks.every((c) => c.endsWith('\n'))).toBe(true);
    expect(JSON.parse(chunks[0]!)).toMatchObject({ level: 'info', msg: 'hello', function: 'syncWorker', runId: 'r1', password: '[redacted]' });
    // the stdout path, a persistent field and a child redact inside arrays too
    for (const v of ['pw-9', 'pw-10', 'pw-11', 'pw-12']) expect(chunks.join('')).not.toContain(v);
    expect(JSON.parse(chunks[1]!)).toMatchObject({ tenant: 'acme', clients: [{ corpSecret: '[redacted]' }], items: [[{ token: '[redacted]' }]], err: [{ message: 'e' }] });
  });
});
