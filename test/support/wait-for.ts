/** Test helpers: poll until a condition holds, within a deadline. */
import type { LocalStack } from '../../local/stack';

/**
 * Poll `probe` every `intervalMs` until it returns something other than `undefined` or
 * `false`, and return that; throw once `timeoutMs` has passed without it.
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Wait until the local stack's notify queue holds no message, visible or in flight. */
export async function notifyQueueDrained(stack: LocalStack, timeoutMs?: number): Promise<void> {
  await waitFor(async () => {
    const q = (await stack.health()).checks.queues['qiye-bridge-local-notify'];
    return q !== undefined && (q.messages ?? 0) === 0 && (q.inFlight ?? 0) === 0;
  }, timeoutMs);
}
