/** Helpers shared by the callback crypto, event parsing and safe-XML unit tests. */
import { CallbackError, type CallbackErrorCode } from '../../shared/crypto/callback-crypto-common';
import type { ContactEvent } from '../../shared/contracts/contact-event';

/** The CallbackError code `fn` throws, or undefined when it does not throw; other errors propagate. */
export function codeOf(fn: () => unknown): CallbackErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CallbackError) return err.code;
    throw err;
  }
}

/** The contact event of a parse result; fails the test when the payload was parsed as something else. */
export function contact(p: { type: string; event?: ContactEvent }): ContactEvent {
  if (p.type !== 'contact' || !p.event) throw new Error(`expected a contact event, got ${p.type}`);
  return p.event;
}
