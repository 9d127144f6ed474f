import { describe, expect, it } from 'vitest';
import { syncJobMessage, syncJobMessageSchema } from '../../shared/contracts/sync-job';
import { ValidationError } from '../../shared/errors/app-error';
import { parseRecordBody } from '../../shared/lambda/sqs-batch';
const parseSyncJobMessage = (body: string) => parseRecordBody(syncJobMessageSchema, { body } as never);
import { mapLimit } from '../../shared/lib/map-limit';
import { csvLine, parseCsv } from '../../shared/use-cases/sync/sync-util';

const RUN = '20240101T000000000Z-abcd1234';

describe('the sync queue message (v1)', () => {
  it('round-trips {v, tenantId, runId, seq}', () => {
    const m = syncJobMessage('acme', RUN, 7);
    expect(parseSyncJobMessage(JSON.stringify(m))).toEqual({ v: 1, tenantId: 'acme', runId: RUN, seq: 7 });
  });

  it.each([
    ['not JSON', 'nope'],
    ['another version', JSON.stringify({ v: 2, tenantId: 'acme', runId: RUN, seq: 0 })],
    ['a bad run id', JSON.stringify({ v: 1, tenantId: 'acme', runId: 'x', seq: 0 })],
    ['a negative seq', JSON.stringify({ v: 1, tenantId: 'acme', runId: RUN, seq: -1 })],
    ['extra fields (operations must not travel in the message)', JSON.stringify({ v: 1, tenantId: 'acme', runId: RUN, seq: 0, operations: [] })],
  ])('refuses %s with a non-retryable error naming no values', (_what, body) => {
    let err: unknown;
    try {
      parseSyncJobMessage(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('QUEUE.BAD_MESSAGE');
    expect((err as ValidationError).retryable).toBe(false);
    expect((err as Error).message).not.toContain('acme');
  });

  it('refuses to build a message for an invalid tenant', () => {
    expect(() => syncJobMessage('Bad Tenant', RUN, 0)).toThrow();
  });
});

describe('CSV helpers', () => {
  it('quotes fields with commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'x\ny', undefined, 3])).toBe('a,"b,c","say ""hi""","x\ny",,3');
    expect(csvLine(['=SUM(A1)', '+1', '-2', '@x'])).toBe("'=SUM(A1),'+1,'-2,'@x");
  });

  it('parses quoted fields, CRLF, a BOM and blank lines', () => {
    expect(parseCsv('\uFEFFsourceId,type,neteaseId\r\n"a,1",person,"x""y"\r\n\r\nb,department,1001\n')).toEqual([
      ['sourceId', 'type', 'neteaseId'],
      ['a,1', 'person', 'x"y'],
      ['b', 'department', '1001'],
    ]);
    expect(() => parseCsv('"open')).toThrow(/unterminated/);
  });
});

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and preserves order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('lets every started call finish, then rejects with the first error', async () => {
    const done: number[] = [];
    await expect(
      mapLimit([1, 2, 3], 3, async (n) => {
        if (n === 1) throw new Error('first');
        await new Promise((r) => setTimeout(r, 5));
        done.push(n);
      }, { onError: 'finish' }),
    ).rejects.toThrow('first');
    expect(done.sort()).toEqual([2, 3]);
  });

  it('with onError stop, starts no new item after a failure', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('second');
      }),
    ).rejects.toThrow('second');
    expect(started).toEqual([1, 2]);
  });
});
