import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error';
import { sqsBatchHandler } from '../../shared/lambda/sqs-batch';
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
