/**
 * GET|POST /callbacks/wecom/{tenant}: WeCom URL verification (GET, answers the bare
 * decrypted echostr) and encrypted change_contact callbacks (POST: verify, dedup, enqueue to
 * the `callback` queue, answer an empty 200). The flow is
 * shared/use-cases/callbacks/accept-callback.ts, the crypto
 * shared/adapters/wecom/wecom.callback-verifier.ts.
 */
import type { AcceptCallbackDeps } from '../../../shared/use-cases/callbacks/accept-callback';
import { makeCallbackHandler } from '../../../shared/http/callback-handler';

export type Deps = AcceptCallbackDeps;

export const { makeHandler, handler } = makeCallbackHandler('wecom');
