/**
 * POST /callbacks/dingtalk/{tenant}: DingTalk encrypted contact callbacks (HTTP push).
 * Verify, dedup, enqueue to the `callback` queue, answer the encrypted "success"; the flow is
 * shared/use-cases/callbacks/accept-callback.ts, the crypto
 * shared/adapters/dingtalk/dingtalk.callback-verifier.ts.
 */
import type { AcceptCallbackDeps } from '../../../shared/use-cases/callbacks/accept-callback';
import { makeCallbackHandler } from '../../../shared/http/callback-handler';

export type Deps = AcceptCallbackDeps;

export const { makeHandler, handler } = makeCallbackHandler('dingtalk');
