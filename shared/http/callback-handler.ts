/**
 * The one implementation behind both callback functions (functions/http/dingtalk-callback,
 * functions/http/wecom-callback): parse the API Gateway event, run the accept flow
 * (shared/use-cases/callbacks/accept-callback.ts) with the vendor's CallbackVerifier, copy
 * the reply.
 */
import type { ContactEventVendor } from '../contracts/contact-event';
import { httpHandler, lazyHandler } from './http-handler';
import { text } from './http-response';
import { acceptCallback, type AcceptCallbackDeps } from '../use-cases/callbacks/accept-callback';
import { CALLBACK_VERIFIERS, getWiring } from '../wiring/wiring';

/** `makeHandler(deps)` for tests and `handler` (built at cold start from the wiring) of one vendor's callback function. */
export function makeCallbackHandler(vendor: ContactEventVendor) {
  const verifier = CALLBACK_VERIFIERS[vendor];
  const makeHandler = (deps: AcceptCallbackDeps) =>
    httpHandler(
      async (event) => {
        const reply = await acceptCallback(deps, verifier, {
          tenantId: event.pathParameters?.tenant,
          channelId: event.pathParameters?.channel,
          method: event.requestContext.http.method,
          // Raw, not queryStringParameters: a `+` (WeCom's echostr) must stay a `+` (wecom.md §1).
          rawQuery: event.rawQueryString,
          body: event.body,
          isBase64Encoded: event.isBase64Encoded,
        });
        return text(reply.status, reply.body, { 'content-type': reply.contentType });
      },
      { logger: deps.logger },
    );
  const handler = lazyHandler(() => makeHandler(getWiring(vendor === 'dingtalk' ? 'dingtalkCallback' : 'wecomCallback').acceptCallbackDeps()));
  return { makeHandler, handler };
}
