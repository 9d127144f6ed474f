/**
 * Bounded concurrency: run `fn` over `items` with at most `limit` calls in flight and the
 * results in input order. What happens after a failure depends on the caller:
 * - `stop` (default): no new item is started and the promise rejects at once. For pulls
 *   that cannot be complete anyway (a directory read, a re-read of changed objects).
 * - `finish`: every item still runs, then the promise rejects with the first error. For
 *   independent operations whose own outcomes are recorded (sync batches, tenants).
 *
 * Hand-written, not p-map or p-limit: p-map's `stopOnError: false` rejects with an AggregateError
 * of every failure, where callers here (and the SQS workers above them) need the first error
 * itself, with its code and `retryable`; p-limit stops only if the caller calls clearQueue().
 * Twenty lines cost less than the dependency.
 */
export interface MapLimitOptions {
  onError?: 'stop' | 'finish';
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>, options: MapLimitOptions = {}): Promise<R[]> {
  const finish = options.onError === 'finish';
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while ((finish || !failed) && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed ??= { err };
        if (!finish) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
  return results;
}
