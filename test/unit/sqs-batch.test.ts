import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../shared/errors/app-error';
import { parsedSqsBatchGroupHandler, parsedSqsBatchHandler, sqsBatchHandler } from '../../shared/lambda/sqs-batch';
import { createMemoryLogger } from '../../shared/logging/logger';

const rec = (id: string, body: string) => ({ messageId: id, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;

describe('SQS partial batch failures', () => {
  it('fails only the records with retryable errors and acknowledges the rest', async () => {
    const seen: string[] = [];
    const logger = createMemoryLogger();
    const h = sqsBatchHandler(async (r) => {
      seen.push(r.messageId);
      if (r.body === 'retry') throw new AppError('UPSTREAM.THROTTLED', 'slow down', { retryable: true });
      if (r.body === 'fatal') throw new AppError('SYNC.BAD_INPUT', 'cannot apply', { retryable: false });
    }, { logger, concurrency: 2 });
    const event = { Records: [rec('a', 'ok'), rec('b', 'retry'), rec('c', 'fatal'), rec('d', 'ok')] } as SQSEvent;
    const res = await h(event, {} as Context);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'b' }]);
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.messageId)).toEqual(['c']);
  });

  it('treats unknown errors (network resets) as retryable', async () => {
    const h = sqsBatchHandler(async () => {
      throw new Error('ECONNRESET');
    }, { logger: createMemoryLogger() });
    const res = await h({ Records: [rec('x', '')] } as SQSEvent, {} as Context);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'x' }]);
  });

  it('starts no record with less than reserveMs of the invocation left, and fails the unstarted ones as retryable', async () => {
    // Each record takes 20 s of a 60 s invocation; 25 s are reserved per record.
    let left = 60_000;
    const context = { getRemainingTimeInMillis: () => left } as unknown as Context;
    const started: string[] = [];
    const logger = createMemoryLogger();
    const h = sqsBatchHandler(async (r) => {
      started.push(r.messageId);
      left -= 20_000;
    }, { logger, reserveMs: 25_000 });
    const res = await h({ Records: [rec('a', ''), rec('b', ''), rec('c', ''), rec('d', '')] } as SQSEvent, context);
    // a starts with 60 s left, b with 40 s; c would start with 20 s: it and d come back.
    expect(started).toEqual(['a', 'b']);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'c' }, { itemIdentifier: 'd' }]);
    expect(logger.lines.find((l) => String(l.msg).startsWith('records not started'))).toMatchObject({ deferred: 2, records: 4, code: 'LAMBDA.DEADLINE_RESERVED' });
  });

  it('ignores the reserve when the context cannot tell the time left', async () => {
    const started: string[] = [];
    const h = sqsBatchHandler(async (r) => void started.push(r.messageId), { logger: createMemoryLogger(), reserveMs: 25_000 });
    const res = await h({ Records: [rec('a', ''), rec('b', '')] } as SQSEvent, {} as Context);
    expect(started).toEqual(['a', 'b']);
    expect(res.batchItemFailures).toEqual([]);
  });
});

describe('SQS batch handler: concurrency, full failures and schema parsing', () => {
  it('runs at most `concurrency` records at once, starting them in batch order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const h = sqsBatchHandler(async (r) => {
      started.push(r.messageId);
      most = Math.max(most, ++inFlight);
      await new Promise((res) => setTimeout(res, 5));
      inFlight--;
    }, { logger: createMemoryLogger(), concurrency: 2 });
    const res = await h({ Records: ['a', 'b', 'c', 'd', 'e'].map((id) => rec(id, '')) } as SQSEvent, {} as Context);
    expect(res.batchItemFailures).toEqual([]);
    expect(most).toBe(2);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('answers a batch whose every record failed with every id, instead of throwing', async () => {
    const h = sqsBatchHandler(async () => {
      throw new AppError('UPSTREAM.THROTTLED', 'slow down', { retryable: true });
    }, { logger: createMemoryLogger(), concurrency: 3 });
    const res = await h({ Records: [rec('a', ''), rec('b', ''), rec('c', '')] } as SQSEvent, {} as Context);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a', 'b', 'c']);
  });

  it('answers an empty batch with no failures', async () => {
    const h = sqsBatchHandler(async () => undefined, { logger: createMemoryLogger() });
    expect(await h({ Records: [] } as SQSEvent, {} as Context)).toEqual({ batchItemFailures: [] });
  });

  it('parses each body with the schema, and acknowledges (logs, never retries) a body that does not match', async () => {
    const schema = z.object({ v: z.literal(1), tenantId: z.string() });
    const seen: Array<{ id: string; tenantId: string }> = [];
    const logger = createMemoryLogger();
    const h = parsedSqsBatchHandler(schema, async (body, r) => void seen.push({ id: r.messageId, tenantId: body.tenantId }), { logger });
    const event = {
      Records: [rec('ok', JSON.stringify({ v: 1, tenantId: 'acme' })), rec('not-json', '{"v":1,'), rec('wrong', JSON.stringify({ v: 2, tenantId: 'secret-looking-value' }))],
    } as SQSEvent;
    const res = await h(event, {} as Context);
    expect(res.batchItemFailures).toEqual([]);
    expect(seen).toEqual([{ id: 'ok', tenantId: 'acme' }]);
    const refused = logger.lines.filter((l) => l.msg === 'record failed');
    expect(refused.map((l) => [l.messageId, l.level, (l.err as { code: string }).code])).toEqual([
      ['not-json', 'error', 'QUEUE.BAD_MESSAGE'],
      ['wrong', 'error', 'QUEUE.BAD_MESSAGE'],
    ]);
    expect((refused[1]!.err as { message: string }).message).toContain('v: invalid_value');
    expect(JSON.stringify(refused)).not.toContain('secret-looking-value');
  });

  it('hands a whole batch of parsed records to a group processor and fails only the ids it names', async () => {
    const schema = z.object({ v: z.literal(1), tenantId: z.string() });
    const logger = createMemoryLogger();
    let got: unknown;
    const h = parsedSqsBatchGroupHandler(schema, async (records) => {
      got = records;
      return { failures: ['b'] };
    }, { logger });
    const event = { Records: [rec('a', JSON.stringify({ v: 1, tenantId: 'acme' })), rec('bad', 'nope'), rec('b', JSON.stringify({ v: 1, tenantId: 'beta' }))] } as SQSEvent;
    expect(await h(event, {} as Context)).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(got).toEqual([{ messageId: 'a', body: { v: 1, tenantId: 'acme' } }, { messageId: 'b', body: { v: 1, tenantId: 'beta' } }]);
    expect(logger.lines.filter((l) => l.msg === 'record failed').map((l) => l.messageId)).toEqual(['bad']);
  });

  it('fails every parsed record when the group processor throws a retryable error, and acknowledges them on a non-retryable one', async () => {
    const schema = z.object({ v: z.literal(1) });
    const event = { Records: [rec('a', '{"v":1}'), rec('bad', '{"v":2}'), rec('b', '{"v":1}')] } as SQSEvent;
    const retrying = parsedSqsBatchGroupHandler(schema, async () => {
      throw new AppError('UPSTREAM.THROTTLED', 'slow down', { retryable: true });
    }, { logger: createMemoryLogger() });
    expect((await retrying(event, {} as Context)).batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a', 'b']);
    const refusing = parsedSqsBatchGroupHandler(schema, async () => {
      throw new AppError('CONFIG.INVALID', 'refused', { retryable: false });
    }, { logger: createMemoryLogger() });
    expect(await refusing(event, {} as Context)).toEqual({ batchItemFailures: [] });
  });
});
