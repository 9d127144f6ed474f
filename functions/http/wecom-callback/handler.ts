/**
 * GET|POST /callbacks/wecom/{tenant}: WeCom URL verification (GET, answers the bare
 * decrypted echostr) and encrypted change_contact callbacks (POST: verify, dedup, enqueue to
 * the `callback` queue, answer an empty 200). The flow is
 * shared/use-cases/callbacks/accept-callback.ts.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { text } from '../../../shared/http/http-response';
import { getRuntime } from '../../../shared/runtime/runtime';
import type { AcceptCallbackDeps } from '../../../shared/use-cases/callbacks/accept-callback';
import { acceptWecomCallback } from '../../../shared/use-cases/callbacks/wecom-callback';

export type Deps = AcceptCallbackDeps;

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const reply = await acceptWecomCallback(deps, {
        tenantId: event.pathParameters?.tenant,
        method: event.requestContext.http.method,
        // Raw, not queryStringParameters: a `+` in echostr must stay a `+` (wecom.md §1).
        rawQuery: event.rawQueryString,
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
      });
      return text(reply.status, reply.body, { 'content-type': reply.contentType });
    },
    { logger: deps.logger },
  );
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('wecomCallback');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  return makeHandler({
    tenant: (id) => rt.tenant(id),
    callbackSecret: (t) => rt.tenantSecret(t.id, 'wecom'),
    once: stores.once,
    jobs: rt.jobs,
    clock: rt.clock,
    logger: rt.logger,
  });
});
